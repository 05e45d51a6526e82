"""Builds a pievse release bundle (see firmware/release_bundle.py) and optionally signs it.

    python deploy/make_bundle.py --out dist/ [--extra pi|pi5]
        [--key signing.key --certificate signing.pem]
        [--wheels DIR] [--platform TAG --python-version 3.11] [--project DIR]

Writes dist/pievse-<version>.bundle; with a key also dist/pievse-<version>.bundle.sig (the
base64 signature SignedUpdateFirmware carries) and dist/pievse-<version>.bundle.pem (the
signing certificate). The wheels are those of this machine's platform unless --platform
names another (binary wheels only then: build on a Pi for packages that have none).
--wheels reuses a directory of dependency wheels and builds only pievse's own.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pievse.firmware.updates.release_bundle import FORMAT, MANIFEST, NAME

PROJECT = Path(__file__).resolve().parents[1]


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args, "--quiet"], check=True)


def clean_copy(project: Path, into: Path) -> Path:
    """The project without build output: setuptools reuses a stale build/lib, which would
    put modules that no longer exist (or old top-level names) into the wheel."""
    copy = into / "project"
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*_cache", ".hypothesis"
    )
    shutil.copytree(project, copy, ignore=ignored)
    return copy


def build_wheels(
    project: Path, out: Path, extra: str, reuse: Path | None, platform: str, python: str
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        _build_wheels(clean_copy(project, Path(scratch)), out, extra, reuse, platform, python)


def _build_wheels(
    project: Path, out: Path, extra: str, reuse: Path | None, platform: str, python: str
) -> None:
    target = f"{project}[{extra}]" if extra else str(project)
    if reuse is not None:
        for wheel in reuse.glob("*.whl"):
            if not wheel.name.startswith(f"{NAME}-"):
                shutil.copy2(wheel, out / wheel.name)
        _pip("wheel", "--no-deps", "--wheel-dir", str(out), str(project))
        return
    if platform:
        _pip("wheel", "--no-deps", "--wheel-dir", str(out), str(project))
        _pip(
            "download", "--only-binary=:all:", "--platform", platform,
            "--python-version", python, "--dest", str(out), target,
        )  # fmt: skip
        return
    _pip("wheel", "--wheel-dir", str(out), target)


def write_bundle(wheels: Path, out_dir: Path, extra: str) -> Path:
    own = sorted(wheels.glob(f"{NAME}-*.whl"))
    if len(own) != 1:
        raise SystemExit(f"make_bundle: expected one {NAME} wheel, found {len(own)}")
    version = own[0].name.split("-")[1]
    files = {
        f"wheels/{wheel.name}": hashlib.sha256(wheel.read_bytes()).hexdigest()
        for wheel in sorted(wheels.glob("*.whl"))
    }
    manifest = {
        "format": FORMAT,
        "name": NAME,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "extras": [extra] if extra else [],
        "files": files,
    }
    bundle = out_dir / f"{NAME}-{version}.bundle"
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for name in files:
            tar.add(wheels / Path(name).name, arcname=name, filter=_plain)
    return bundle


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o644
    return info


def sign(bundle: Path, key_path: Path, certificate_path: Path) -> tuple[Path, Path]:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    data = bundle.read_bytes()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise SystemExit(f"make_bundle: {key_path}: an EC or RSA key is needed")
    signature_path = bundle.with_name(bundle.name + ".sig")
    signature_path.write_text(base64.b64encode(signature).decode() + "\n")
    certificate_out = bundle.with_name(bundle.name + ".pem")
    shutil.copyfile(certificate_path, certificate_out)
    return signature_path, certificate_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make_bundle", description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=PROJECT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--extra", choices=("pi", "pi5"), default="")
    parser.add_argument("--wheels", type=Path, help="reuse these dependency wheels")
    parser.add_argument("--platform", default="", help="pip platform tag of the target")
    parser.add_argument("--python-version", default="3.11")
    parser.add_argument("--key", type=Path, help="firmware signing key (PEM)")
    parser.add_argument("--certificate", type=Path, help="its signing certificate (PEM)")
    args = parser.parse_args(argv)
    if bool(args.key) != bool(args.certificate):
        parser.error("--key and --certificate go together")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        wheels = Path(work)
        build_wheels(
            args.project, wheels, args.extra, args.wheels, args.platform, args.python_version
        )
        bundle = write_bundle(wheels, args.out, args.extra)
    print(bundle)
    if args.key:
        for path in sign(bundle, args.key, args.certificate):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
