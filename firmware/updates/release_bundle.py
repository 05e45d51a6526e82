"""A pievse release bundle: everything a box needs to install a release without a network.

A bundle is an uncompressed tar (the wheels are compressed already):

    manifest.json   {"format": 1, "name": "pievse", "version": ..., "created": ...,
                     "extras": ["pi"], "files": {"wheels/<wheel>": "<sha256>", ...}}
    wheels/*.whl    the pievse wheel and every dependency's

It is signed as a whole (OCPP 1.6 Security Whitepaper, SignedUpdateFirmware): the signature is
over the bundle file's bytes with SHA-256, ECDSA or RSA (PKCS#1 v1.5), by a firmware signing
certificate that must lead to an installed ManufacturerRootCertificate. `deploy/make_bundle.py`
builds and signs one; this module reads and checks one, and extracts only what the manifest
lists, each file checked against its SHA-256 (the signature is `bundle_signature`'s).
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

MANIFEST = "manifest.json"
FORMAT = 1
NAME = "pievse"
MAX_MANIFEST_BYTES = 1_000_000
VERSION_PATTERN = re.compile(r"[0-9][0-9A-Za-z.+!_-]{0,63}")


class BundleError(ValueError):
    """The file is not a usable bundle; the message says why."""


class Canceled(Exception):
    """The update this work was for was canceled (its stop event was set)."""


Source = Path | BinaryIO
"""A bundle's path, or the open file (read from its start) that was verified."""


EXTRAS = ("pi", "pi5")


@dataclass(frozen=True)
class Manifest:
    version: str
    files: dict[str, str]
    """Path inside the bundle -> SHA-256 (hex)."""
    extras: tuple[str, ...] = ()
    """The pievse extras whose wheels the bundle carries (pi, pi5): installed with it."""

    @property
    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{NAME}{extras}=={self.version}"

    @property
    def wheels(self) -> list[str]:
        return sorted(p for p in self.files if p.endswith(".whl"))


def _parse_manifest(data: bytes) -> Manifest:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BundleError(f"{MANIFEST} is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{MANIFEST}: not a format {FORMAT} pievse manifest")
    if manifest.get("name") != NAME:
        raise BundleError(f"{MANIFEST}: a bundle of {manifest.get('name')!r}, not of pievse")
    version, files = manifest.get("version"), manifest.get("files")
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        raise BundleError(f"{MANIFEST}: version {version!r} is not a release version")
    if not isinstance(files, dict) or not files:
        raise BundleError(f"{MANIFEST}: no files listed")
    for name, digest in files.items():
        path = PurePosixPath(str(name))
        if path.is_absolute() or ".." in path.parts or path.parts[:1] != ("wheels",):
            raise BundleError(f"{MANIFEST}: {name!r} is not a file under wheels/")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise BundleError(f"{MANIFEST}: {name!r} has no SHA-256")
    if not any(str(name).startswith(f"wheels/{NAME}-") for name in files):
        raise BundleError(f"{MANIFEST}: no pievse wheel")
    extras = manifest.get("extras", [])
    if not isinstance(extras, list) or any(extra not in EXTRAS for extra in extras):
        raise BundleError(f"{MANIFEST}: extras {extras!r}: expected some of {', '.join(EXTRAS)}")
    return Manifest(version, {str(k): v for k, v in files.items()}, tuple(extras))


def _name(source: Source) -> str:
    return source.name if isinstance(source, Path) else "the bundle"


def _open(source: Source) -> tarfile.TarFile:
    try:
        if isinstance(source, Path):
            return tarfile.open(source, "r:")
        source.seek(0)
        return tarfile.open(fileobj=source, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"{_name(source)} is not a bundle (tar): {exc}") from None


def read_manifest(source: Source) -> Manifest:
    with _open(source) as bundle:
        try:
            member = bundle.getmember(MANIFEST)
        except KeyError:
            raise BundleError(f"{_name(source)} has no {MANIFEST}") from None
        if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
            raise BundleError(f"{_name(source)}: {MANIFEST} is not a small regular file")
        extracted = bundle.extractfile(member)
        assert extracted is not None
        return _parse_manifest(extracted.read())


def _copy_checked(
    source: IO[bytes], target: Path, expected: str, name: str, stop: threading.Event
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := source.read(1 << 16):
            if stop.is_set():
                raise Canceled("the update was canceled")
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected:
        raise BundleError(f"{name} does not match its SHA-256 in the manifest")


def extract(source: Source, destination: Path, stop: threading.Event | None = None) -> Manifest:
    """Writes the listed files under `destination`, each checked against the manifest;
    Canceled once `stop` is set."""
    stop = stop or threading.Event()
    manifest = read_manifest(source)
    seen: set[str] = set()
    with _open(source) as bundle:
        for member in bundle:
            if member.name == MANIFEST:
                continue
            if member.name not in manifest.files:
                if member.isdir():
                    continue
                raise BundleError(f"{member.name} is in the bundle but not in the manifest")
            if not member.isfile():
                raise BundleError(f"{member.name} is not a regular file")
            extracted = bundle.extractfile(member)
            assert extracted is not None
            target = destination / member.name
            _copy_checked(extracted, target, manifest.files[member.name], member.name, stop)
            seen.add(member.name)
    missing = set(manifest.files) - seen
    if missing:
        raise BundleError(f"listed but missing: {', '.join(sorted(missing))}")
    return manifest
