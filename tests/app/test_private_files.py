"""A plain `pievse run` from a shell (umask 0022) keeps what it writes to its owner: the
data directory (id tags, keys, the API token) 0700, the log (id tags) 0600, also after the
log rotates."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import urllib.request
from pathlib import Path

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
