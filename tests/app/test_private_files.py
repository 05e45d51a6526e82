"""A plain `pievse run` from a shell (umask 0022) keeps what it writes to its owner: the
data directory (id tags, keys, the API token) 0700, the log (id tags) 0600, also after the
log rotates."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import signal
import stat
import subprocess
import urllib.request
from pathlib import Path

import pytest

from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from tests.rigs.process import PIEVSE, free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def shell_umask() -> None:
    os.umask(0o022)


async def test_a_plain_run_makes_its_data_directory_and_log_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *PIEVSE, "run", "--data-dir", str(data), "--api", f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.DEVNULL, preexec_fn=shell_umask,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                await asyncio.to_thread(
                    urllib.request.urlopen, f"http://127.0.0.1:{port}/api/status", timeout=1
                )
                break
            except OSError:
                await asyncio.sleep(0.1)
        log = data / "logs" / "pievse.log"
        assert log.exists() and log.stat().st_size > 0
        assert mode(data) == 0o700
        assert mode(data / "logs") == 0o700
        assert mode(log) == 0o600
        assert mode(data / "pievse.db") == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)


def test_a_rotated_log_is_owner_only_too(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        diagnostics = DiagnosticsLog(tmp_path / "logs")
        diagnostics.attach()
        try:
            for n in range(30_000):
                logging.getLogger("tests.rotation").warning("line %d of a long log", n)
        finally:
            diagnostics.detach()
    finally:
        os.umask(previous)
    files = diagnostics.files()
    assert len(files) >= 2, "it rotated"
    assert {mode(f) for f in files} == {0o600}


def own_network_namespace() -> bool:
    """Listening beyond loopback in a test stays off the LAN in a namespace of its own."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not own_network_namespace(), reason="needs unshare -n (root)")
async def test_a_made_token_never_reaches_stdout_stderr_or_the_log(tmp_path: Path) -> None:
    """Under systemd stdout and stderr are the journal. The box listens on 0.0.0.0 (in a
    network namespace with only loopback), makes its token, and shows it only in the file
    beside its config, which the log names."""
    config = tmp_path / "etc" / "pievse.toml"
    config.parent.mkdir()
    config.write_text("")
    data = tmp_path / "data"
    command = [*PIEVSE, "run", "--config", str(config), "--data-dir", str(data)]
    command += ["--api", "0.0.0.0:8080"]
    shell = f"ip link set lo up && exec {shlex.join(command)}"
    process = await asyncio.create_subprocess_exec(
        "unshare", "-n", "sh", "-c", shell,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=shell_umask,
    )  # fmt: skip
    log = data / "logs" / "pievse.log"
    token_file = config.parent / "api-token"
    try:
        for _ in range(300):
            if log.exists() and "; status page http" in log.read_text():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the box never said where its page is")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    token = token_file.read_text().strip()
    assert len(token) >= 24 and mode(token_file) == 0o600
    journal = stdout.decode() + stderr.decode()
    assert str(token_file) in journal, "named where the owner looks"
    assert token not in journal
    assert token not in log.read_text()


def test_an_upgraded_box_closes_its_old_logs_and_says_its_directory_is_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    logs = data / "logs"
    logs.mkdir(parents=True)
    os.chmod(data, 0o755)
    for name in ("pievse.log", "pievse.log.1"):
        (logs / name).write_text("2026-01-01T00:00:00Z INFO x: id tag CARD-1\n")
        os.chmod(logs / name, 0o644)
    box = Wallbox(RunOptions(data_dir=data, api="127.0.0.1:0"))
    try:
        box.diagnostics.attach()
        box.diagnostics.detach()
    finally:
        box.store.close()
    assert mode(data) == 0o755, "a directory it did not make keeps its mode"
    assert f"{data} is open to other users (mode 755)" in caplog.text
    assert mode(logs / "pievse.log") == mode(logs / "pievse.log.1") == 0o600
