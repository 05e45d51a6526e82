"""deploy/: install.sh into a test tree (twice: the same tree), the systemd unit checked by
systemd-analyze, the bundle format's refusals, and READY/WATCHDOG/STOPPING over a real
notify socket from a real `pievse run`."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from pievse.firmware.updates import update_record
from pievse.firmware.updates.release_bundle import BundleError, extract, read_manifest
from pievse.firmware.updates.releases import Releases
from tests.rigs.process import PIEVSE, free_port
from tests.rigs.release_rig import BASE, ROOT, UPDATE, Bundles, install

UNIT_PATHS = ("/opt/pievse", "/etc/pievse", "/var/lib/pievse")


def tree(root: Path) -> dict[str, str]:
    """Every path under root: a file's SHA-256, a link's target, a directory's mode."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[relative] = oct(path.stat().st_mode & 0o777)
        else:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.timeout(600)
def test_install_sh_twice_gives_the_same_tree(tmp_path: Path, bundles: Bundles) -> None:
    prefix = tmp_path / "root"
    install(prefix, bundles.path(BASE))
    first = tree(prefix)
    install(prefix, bundles.path(BASE))
    assert tree(prefix) == first, "a second run changes nothing"
    assert first["opt/pievse/current"] == f"-> releases/{BASE}"
    config_txt = (prefix / "boot/firmware/config.txt").read_text().splitlines()
    assert config_txt == ["dtparam=i2c_arm=on", "enable_uart=1", "dtoverlay=pwm-2chan"]
    assert (prefix / "etc/modules").read_text() == "i2c-dev\n"
    assert oct((prefix / "var/lib/pievse").stat().st_mode & 0o777) == "0o750"
    assert (prefix / "etc/pievse/board.toml").read_text().startswith("# bench-sim")
    done = subprocess.run(
        [str(prefix / "opt/pievse/current/venv/bin/pievse"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"pievse {BASE}"
    records = list(
        prefix.glob("opt/pievse/releases/*/venv/lib/python*/site-packages/pievse-*/RECORD")
    )
    assert len(records) == 1
    top = {line.split(",")[0].split("/")[0] for line in records[0].read_text().splitlines()}
    assert {t for t in top if not t.endswith(".dist-info") and t != ".."} == {"pievse"}, (
        "the wheel puts nothing but pievse at the top of site-packages"
    )
    tag = sys.implementation.cache_tag
    compiled = f"pievse/firmware/app/__pycache__/wallbox.{tag}.opt-2.pyc"
    assert any(p.endswith(compiled) for p in first), "bytecode for PYTHONOPTIMIZE=2"


def test_install_sh_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    script = str(ROOT / "deploy" / "install.sh")
    for args, message in (
        (["--bogus"], "unknown option --bogus"),
        (["--prefix", str(tmp_path), "--pi-model", "7"], "--pi-model: expected 3, 4, 5 or none"),
        (["--prefix", str(tmp_path), "--bundle", str(tmp_path / "none")], "not found"),
        (["--prefix", str(tmp_path), "--board", "pi-zero"], "no bundled board pi-zero"),
    ):
        done = subprocess.run([script, *args], capture_output=True, text=True)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)


@pytest.mark.timeout(300)
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_the_installed_unit_passes_systemd_analyze_verify(tmp_path: Path, bundles: Bundles) -> None:
    prefix = tmp_path / "root"
    install(prefix, bundles.path(BASE))
    unit = (prefix / "etc/systemd/system/pievse.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=30" in unit and "update-guard" in unit
    for path in UNIT_PATHS:  # the unit as it stands on a box, rooted in the test tree
        unit = unit.replace(path, f"{prefix}{path}")
    checked = tmp_path / "pievse.service"
    checked.write_text(unit)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(checked)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "pievse.service" not in done.stderr, done.stderr


def _bundle(tmp_path: Path, manifest: object, members: dict[str, bytes]) -> Path:
    path = tmp_path / "x.bundle"
    with tarfile.open(path, "w") as tar:
        for name, data in {"manifest.json": json.dumps(manifest).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


WHEEL = b"not really a wheel"
GOOD = {
    "format": 1,
    "name": "pievse",
    "version": "9.9.9",
    "files": {"wheels/pievse-9.9.9-py3-none-any.whl": hashlib.sha256(WHEEL).hexdigest()},
}


@pytest.mark.parametrize(
    ("manifest", "members", "message"),
    [
        ({**GOOD, "name": "other"}, {}, "a bundle of 'other'"),
        ({**GOOD, "format": 2}, {}, "not a format 1"),
        ({**GOOD, "version": "../x"}, {}, "is not a release version"),
        ({**GOOD, "files": {"../../etc/passwd": "0" * 64}}, {}, "is not a file under wheels/"),
        ({**GOOD, "files": {"wheels/other-1.whl": "0" * 64}}, {}, "no pievse wheel"),
        (GOOD, {}, "listed but missing"),
        ({**GOOD, "extras": ["gpu"]}, {}, "extras \\['gpu'\\]: expected some of pi, pi5"),
        (GOOD, {"wheels/pievse-9.9.9-py3-none-any.whl": b"changed"}, "does not match its SHA-256"),
        (
            GOOD,
            {"wheels/pievse-9.9.9-py3-none-any.whl": WHEEL, "extra": b"x"},
            "not in the manifest",
        ),
    ],
)
def test_a_bad_bundle_is_refused_with_its_reason(
    tmp_path: Path, manifest: dict, members: dict[str, bytes], message: str
) -> None:
    path = _bundle(tmp_path, manifest, members)
    with pytest.raises(BundleError, match=message):
        extract(path, tmp_path / "out")
    assert not (tmp_path / "etc").exists()


def test_a_good_bundle_extracts_and_a_non_tar_is_refused(tmp_path: Path) -> None:
    path = _bundle(tmp_path, GOOD, {"wheels/pievse-9.9.9-py3-none-any.whl": WHEEL})
    manifest = extract(path, tmp_path / "out")
    assert (manifest.version, manifest.requirement) == ("9.9.9", "pievse==9.9.9")
    pi = _bundle(tmp_path, {**GOOD, "extras": ["pi"]}, {})
    assert read_manifest(pi).requirement == "pievse[pi]==9.9.9", "installed with its extra"
    assert (tmp_path / "out/wheels/pievse-9.9.9-py3-none-any.whl").read_bytes() == WHEEL
    (tmp_path / "junk").write_bytes(b"\x00" * 100)
    with pytest.raises(BundleError, match="is not a bundle"):
        read_manifest(tmp_path / "junk")


def test_pievse_run_tells_systemd_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(15)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "600000"}
    process = subprocess.Popen(
        [
            *PIEVSE,
            "run",
            "--data-dir",
            str(tmp_path / "data"),
            "--api",
            f"127.0.0.1:{free_port()}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        messages = [receiver.recv(4096).decode()]
        assert messages[0].startswith("READY=1\nSTATUS=pievse "), messages
        started = time.monotonic()
        while messages.count("WATCHDOG=1") < 3:
            messages.append(receiver.recv(4096).decode())
        assert time.monotonic() - started < 3, "a ping every half period (0.3 s)"
        process.send_signal(signal.SIGTERM)
        while messages[-1] != "STOPPING=1":
            messages.append(receiver.recv(4096).decode())
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        receiver.close()


# --- the guard systemd runs before every start ---------------------------------------------------


def test_the_update_guard_rolls_back_a_release_past_its_deadline(tmp_path: Path) -> None:
    root = tmp_path / "opt"
    for version in (BASE, UPDATE):
        (root / "releases" / version).mkdir(parents=True)
        (root / "releases" / version / ".complete").write_text(version)
    releases = Releases(root)
    releases.switch(BASE)
    releases.switch(UPDATE)
    data = tmp_path / "data"
    data.mkdir()
    record = update_record.UpdateRecord("verifying", UPDATE, BASE, time.time() + 60, False, None)
    update_record.save(update_record.path_in(data), record)
    command = [*PIEVSE, "update-guard", "--data-dir", str(data), "--install-root", str(root)]
    early = subprocess.run(command, capture_output=True, text=True, check=True)
    assert early.stdout.strip() == "nothing to do" and releases.current() == UPDATE
    update_record.save(
        update_record.path_in(data),
        record.__class__(**{**record.__dict__, "deadline": time.time() - 1}),
    )
    late = subprocess.run(command, capture_output=True, text=True, check=True)
    assert late.stdout.strip() == f"rolled back to {BASE}"
    assert releases.current() == BASE
    assert update_record.load(update_record.path_in(data)).state == "rolled_back"  # type: ignore[union-attr]
