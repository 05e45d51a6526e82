"""Builds a pievse release bundle (see firmware/updates/release_bundle.py) and optionally signs it.

    python deploy/make_bundle.py --out dist/ [--extra pi|pi5]
        [--key signing.key --certificate signing.pem]
        [--wheels DIR] [--platform aarch64|armv7l] [--project DIR]
    python deploy/make_bundle.py --check aarch64 armv7l

Writes dist/pievse-<version>.bundle; with a key also dist/pievse-<version>.bundle.sig (the
base64 signature SignedUpdateFirmware carries) and dist/pievse-<version>.bundle.pem (the
signing certificate). The wheels are those of this machine's platform unless --platform
names a Raspberry Pi OS (Bookworm, Python 3.11) target: aarch64 (64-bit) or armv7l (32-bit).
For a target, each dependency comes as its binary wheel where one exists; one that has none
for it comes as its source, which the box builds at install (gcc, python3-dev, libffi-dev),
and the bundle then carries setuptools and wheel to build it offline. --check resolves
every dependency (of pievse and of each extra) for each target and prints how each would
come, without making a bundle.
--wheels reuses a directory of dependency wheels and builds only pievse's own.

Runs on the standard library and pip alone (cryptography only to sign), so a bare Python
in a fresh venv can build a bundle from a clone.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parents[1]
TARGETS = {"aarch64": "Raspberry Pi OS 64-bit", "armv7l": "Raspberry Pi OS 32-bit"}
GLIBC_MINOR = 36
"""Bookworm's glibc is 2.36: manylinux wheels up to manylinux_2_36 run there."""
BUILD_TOOLS = ("setuptools", "wheel")
NO_MATCH = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)==")


def _bundle_format() -> ModuleType:
    """release_bundle.py by path: it is standard library only, and pievse need not be
    installed where a bundle is made."""
    path = HERE / "firmware" / "updates" / "release_bundle.py"
    spec = importlib.util.spec_from_file_location("pievse_release_bundle", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


FORMAT = _bundle_format()
NAME: str = FORMAT.NAME


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )


def _pip_or_exit(*args: str) -> None:
    done = _pip(*args)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise SystemExit(f"make_bundle: pip {args[0]} failed: {lines[-1] if lines else '?'}")


def clean_copy(project: Path, into: Path) -> Path:
    """The project without build output: setuptools reuses a stale build/lib, which would
    put modules that no longer exist (or old top-level names) into the wheel."""
    copy = into / "project"
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*_cache", ".hypothesis"
    )
    shutil.copytree(project, copy, ignore=ignored)
    return copy


def platform_tags(target: str) -> list[str]:
    """pip's --platform values for a Bookworm target: pip does not widen manylinux_2_36 to
    the older glibc tags by itself. linux_<arch> is what the Pi's own wheel index serves."""
    tags = [f"manylinux_2_{minor}_{target}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*tags, f"manylinux2014_{target}", f"linux_{target}"]


def _target_options(target: str) -> list[str]:
    options = ["--python-version", "3.11", "--implementation", "cp"]
    for tag in platform_tags(target):
        options += ["--platform", tag]
    return options


def pinned_dependencies(requirement: str) -> list[str]:
    """Every distribution `requirement` needs, as name==version, resolved once (here): the
    same versions then go to every target."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        _pip_or_exit(
            "install", "--dry-run", "--ignore-installed", "--report", str(report), requirement
        )
        found = json.loads(report.read_text())["install"]
    pins = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in found]
    return sorted(p for p in pins if p.split("==")[0].lower() != NAME)


def fetch_for_target(pins: list[str], target: str, out: Path, check: bool) -> list[str]:
    """Binary wheels of `pins` for `target` into `out` (with `check`: only resolved, nothing
    downloaded); returns the pins that have no wheel for it."""
    wanted, sources = list(pins), []
    while wanted:
        if check:
            args = ["install", "--dry-run", "--ignore-installed", "--target", str(out / "t")]
        else:
            args = ["download", "--dest", str(out)]
        done = _pip(*args, "--no-deps", "--only-binary=:all:", *_target_options(target), *wanted)
        if done.returncode == 0:
            break
        missing = NO_MATCH.search(done.stderr)
        if missing is None:
            lines = done.stderr.strip().splitlines()
            raise SystemExit(f"make_bundle: {target}: {lines[-1] if lines else 'pip failed'}")
        pin = next(p for p in wanted if p.split("==")[0].lower() == missing[1].lower())
        wanted.remove(pin)
        sources.append(pin)
    return sorted(sources)


def fetch_sources(sources: list[str], out: Path) -> None:
    """The sources of what has no wheel for the target, and the tools to build them on the
    box without a network."""
    _pip_or_exit("download", "--no-deps", "--no-binary=:all:", "--dest", str(out), *sources)
    _pip_or_exit("download", "--no-deps", "--only-binary=:all:", "--dest", str(out), *BUILD_TOOLS)


def build_wheels(project: Path, out: Path, extra: str, reuse: Path | None, target: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = clean_copy(project, Path(scratch))
        wanted = f"{copy}[{extra}]" if extra else str(copy)
        if reuse is not None:
            for wheel in reuse.glob("*.whl"):
                if not wheel.name.startswith(f"{NAME}-"):
                    shutil.copy2(wheel, out / wheel.name)
            _pip_or_exit("wheel", "--no-deps", "--wheel-dir", str(out), str(copy))
        elif target:
            _pip_or_exit("wheel", "--no-deps", "--wheel-dir", str(out), str(copy))
            pins = pinned_dependencies(wanted)
            sources = fetch_for_target(pins, target, out, check=False)
            if sources:
                fetch_sources(sources, out)
                print(_sources_note(target, sources), file=sys.stderr)
        else:
            _pip_or_exit("wheel", "--wheel-dir", str(out), wanted)


def _sources_note(target: str, sources: list[str]) -> str:
    return (
        f"make_bundle: no binary wheel for {target} of {', '.join(sources)}: the bundle "
        "carries their source, built on the box at install (gcc, python3-dev, libffi-dev)"
    )


def check_targets(project: Path, targets: list[str]) -> int:
    """Prints `target name==version wheel|source` for every dependency of pievse and of all
    its extras, resolved for each target; downloads only the sources (once)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = clean_copy(project, Path(scratch))
        pins = pinned_dependencies(f"{copy}[{','.join(FORMAT.EXTRAS)}]")
        sources = {t: fetch_for_target(pins, t, Path(scratch), check=True) for t in targets}
        every_source = sorted({pin for found in sources.values() for pin in found})
        if every_source:
            fetch_sources(every_source, Path(scratch))
    for target in targets:
        for pin in pins:
            print(target, pin, "source" if pin in sources[target] else "wheel")
    return 0


def write_bundle(wheels: Path, out_dir: Path, extra: str, target: str) -> Path:
    own = sorted(wheels.glob(f"{NAME}-*.whl"))
    if len(own) != 1:
        raise SystemExit(f"make_bundle: expected one {NAME} wheel, found {len(own)}")
    version = own[0].name.split("-")[1]
    carried = sorted([*wheels.glob("*.whl"), *wheels.glob("*.tar.gz"), *wheels.glob("*.zip")])
    files = {
        f"wheels/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest() for path in carried
    }
    manifest = {
        "format": FORMAT.FORMAT,
        "name": NAME,
        "version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "extras": [extra] if extra else [],
        "platform": target or "native",
        "files": files,
    }
    suffix = f"-{target}" if target else ""
    bundle = out_dir / f"{NAME}-{version}{suffix}.bundle"
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(FORMAT.MANIFEST)
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
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

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
    parser.add_argument("--project", type=Path, default=HERE)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--extra", choices=FORMAT.EXTRAS, default="")
    parser.add_argument("--wheels", type=Path, help="reuse these dependency wheels")
    parser.add_argument("--platform", choices=tuple(TARGETS), default="", help="target Pi OS")
    parser.add_argument(
        "--check", nargs="+", choices=tuple(TARGETS), help="only resolve for these targets"
    )
    parser.add_argument("--key", type=Path, help="firmware signing key (PEM)")
    parser.add_argument("--certificate", type=Path, help="its signing certificate (PEM)")
    args = parser.parse_args(argv)
    if bool(args.key) != bool(args.certificate):
        parser.error("--key and --certificate go together")
    if args.check:
        return check_targets(args.project, args.check)
    if args.out is None:
        parser.error("--out is required")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        wheels = Path(work)
        build_wheels(args.project, wheels, args.extra, args.wheels, args.platform)
        bundle = write_bundle(wheels, args.out, args.extra, args.platform)
    print(bundle)
    if args.key:
        for path in sign(bundle, args.key, args.certificate):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
