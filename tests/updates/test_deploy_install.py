"""deploy/install.sh the way an installer uses it: from a fresh clone without a bundle (the
README's field-install line), and against hostile bundles: a version that walks out of
releases/, a signature that does not lead to the provisioned manufacturer root or does not
match, an unsigned bundle where a root is provisioned, and the bundle's code never run as
root. Also: make_bundle.py resolves every dependency for the Pi's platforms."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.rigs.paths import ROOT
from tests.rigs.process import free_port
from tests.rigs.release_rig import BASE, UPDATE, Bundles

INSTALL = ROOT / "deploy" / "install.sh"


def run_install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=900
    )


def status_of(base: str, deadline_s: float) -> dict:
    end = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)


@pytest.fixture
def open_directory() -> Iterator[Path]:
    """A directory another user can reach (pytest's own are the owner's only)."""
    path = Path(tempfile.mkdtemp(prefix="pievse-install-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def as_service_user() -> tuple[list[str], dict[str, str]]:
    """As root, install.sh runs the build and the release's steps as `nobody` (on a box:
    pievse) with Debian's python3, which any user may run; otherwise as the caller."""
    if os.geteuid() == 0 and Path("/usr/bin/python3").exists():
        return ["--user", "nobody"], {**os.environ, "PYTHON": "/usr/bin/python3"}
    return [], {**os.environ, "PYTHON": sys.executable}


def assert_written_by_nobody(prefix: Path) -> None:
    """The release's venv, its packages and their bytecode were written by the service user
    (pip and compileall ran as it), the mark of a finished release by the installer."""
    release = prefix / "opt/pievse/releases" / BASE
    packages = list(release.glob("venv/lib/python3*/site-packages/pievse"))
    assert len(packages) == 1
    sources, compiled = list(packages[0].rglob("*.py")), list(packages[0].rglob("*.opt-2.pyc"))
    assert len(sources) > 10 and len(compiled) > 10
    assert {path.stat().st_uid for path in [*sources, *compiled]} == {65534}
    assert (release / ".complete").stat().st_uid == 0


@pytest.mark.timeout(900)
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_install_sh_from_a_fresh_clone_without_a_bundle_runs_the_release(
    open_directory: Path,
) -> None:
    clone = open_directory / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    prefix = open_directory / "root"
    user, env = as_service_user()
    started = time.monotonic()
    done = subprocess.run(
        [str(clone / "deploy/install.sh"), "--prefix", str(prefix), *user],
        capture_output=True,
        text=True,
        env=env,
        timeout=880,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "building a bundle from" in done.stdout
    print(f"\ninstall.sh from a fresh clone (no bundle): {took:.0f} s")
    if user:
        assert_written_by_nobody(prefix)
    executable = prefix / "opt/pievse/current/venv/bin/pievse"
    port = free_port()
    etc = prefix / "etc/pievse"
    command = [str(executable), "run", "--board", str(etc / "board.toml"), "--config"]
    command += [str(etc / "pievse.toml"), "--data-dir", str(prefix / "var/lib/pievse")]
    process = subprocess.Popen(
        [*command, "--api", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "VIRTUAL_ENV")},
    )
    try:
        status = status_of(f"http://127.0.0.1:{port}", 60)
        assert status["connectors"]["1"]["status"] == "Available"
        assert status["contactor"] == "open"
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- a hostile bundle ----------------------------------------------------------------------


def _bundle(path: Path, version: str) -> Path:
    wheel = b"not a wheel"
    name = f"wheels/pievse-{version.replace('/', '_')}-py3-none-any.whl"
    manifest = {
        "format": 1,
        "name": "pievse",
        "version": version,
        "files": {name: hashlib.sha256(wheel).hexdigest()},
    }
    with tarfile.open(path, "w") as tar:
        for member, data in (("manifest.json", json.dumps(manifest).encode()), (name, wheel)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_bundle_version_that_leaves_releases_removes_nothing(tmp_path: Path) -> None:
    prefix = tmp_path / "root"
    victim = prefix / "x" / "precious"
    victim.parent.mkdir(parents=True)
    victim.write_text("keep me")
    bundle = _bundle(tmp_path / "evil.bundle", "../../../x")
    done = run_install("--prefix", str(prefix), "--bundle", str(bundle))
    assert done.returncode == 2, done.stderr
    assert "is not a release version" in done.stderr
    assert "is NOT signed" in done.stderr, "no root provisioned: said loudly"
    assert victim.read_text() == "keep me"
    assert not (prefix / "opt").exists(), "refused before anything was installed"


def _copy_signed(bundles: Bundles, version: str, into: Path, data: bytes | None = None) -> Path:
    source = bundles.path(version)
    target = into / source.name
    target.write_bytes(source.read_bytes() if data is None else data)
    for suffix in (".sig", ".pem"):
        shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


@pytest.mark.timeout(600)
def test_a_bundle_installs_only_under_the_provisioned_manufacturer_root(
    tmp_path: Path, bundles: Bundles
) -> None:
    prefix = tmp_path / "root"
    (prefix / "etc/pievse").mkdir(parents=True)
    (prefix / "etc/pievse/maker.pem").write_text(bundles.maker.root.pem())
    (prefix / "etc/pievse/pievse.toml").write_text(
        '[security]\nmanufacturer_root_certificate = "/etc/pievse/maker.pem"\n'
    )
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(bundles.stranger.pem())
    signed = _copy_signed(bundles, UPDATE, tmp_path)
    changed = bytearray(signed.read_bytes())
    changed[-2000] ^= 0xFF
    (tmp_path / "tampered").mkdir()
    tampered = _copy_signed(bundles, UPDATE, tmp_path / "tampered", bytes(changed))
    (tmp_path / "server").mkdir()
    server = bundles.maker.server()  # the maker's root, but serverAuth, not codeSigning
    by_server = _copy_signed(bundles, UPDATE, tmp_path / "server")
    signature = server.key.sign(by_server.read_bytes(), ec.ECDSA(hashes.SHA256()))
    Path(f"{by_server}.sig").write_text(base64.b64encode(signature).decode())
    Path(f"{by_server}.pem").write_text(server.pem())
    for args, message in (
        (["--bundle", str(bundles.path(BASE))], "is not signed"),
        (["--bundle", str(by_server)], "is not a code-signing certificate"),
        (["--bundle", str(signed), "--manufacturer-root", str(stranger)], "does not lead to"),
        (["--bundle", str(tampered)], "does not match"),
    ):
        done = run_install("--prefix", str(prefix), *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert not (prefix / "opt").exists(), (args, "nothing installed")
    done = run_install("--prefix", str(prefix), "--bundle", str(signed))
    assert done.returncode == 0, done.stderr
    assert "signature verified" in done.stdout
    assert os.readlink(prefix / "opt/pievse/current") == f"releases/{UPDATE}"


# --- bundles for the Pi's platforms --------------------------------------------------------


@pytest.mark.timeout(600)
def test_every_dependency_resolves_for_both_pi_platforms() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy/make_bundle.py"), "--check", "aarch64", "armv7l"],
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert done.returncode == 0, done.stderr
    found = {tuple(line.split()[:2]): line.split()[2] for line in done.stdout.splitlines()}
    names = {target: {pin.split("==")[0].lower() for t, pin in found if t == target}
             for target in ("aarch64", "armv7l")}  # fmt: skip
    for target in ("aarch64", "armv7l"):
        assert {"cryptography", "aiohttp", "ocpp", "pymodbus", "rpi.gpio", "rpi-lgpio"} <= (
            names[target]
        )
    sources = {(t, pin.split("==")[0]) for (t, pin), how in found.items() if how == "source"}
    assert ("aarch64", "RPi.GPIO") in sources, "RPi.GPIO ships no wheels at all"
    assert ("aarch64", "cryptography") not in sources
    print("\n" + "\n".join(f"{t} {name}: source" for t, name in sorted(sources)))


# --- what is missing, in one line --------------------------------------------------------

FAKE_PYTHONS = {
    "absent": (None, "is missing (apt-get install python3)"),
    "old": ("exit 1", "is older than Python 3.11"),
    "no-venv": (
        'case "$2" in *ensurepip*) exit 1 ;; esac; exit 0',
        "the venv module of",
    ),
}


@pytest.mark.parametrize("kind", sorted(FAKE_PYTHONS))
def test_what_is_missing_is_named_in_one_line(tmp_path: Path, kind: str) -> None:
    body, message = FAKE_PYTHONS[kind]
    python = tmp_path / "python3"
    if body is not None:
        python.write_text(f"#!/bin/sh\n{body}\n")
        python.chmod(0o755)
    done = run_install(
        "--prefix", str(tmp_path / "root"), env={**os.environ, "PYTHON": str(python)}
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("install.sh: error: "), done.stderr
    assert message in lines[0]
