"""The `pievse run` process against the CSMS: a hard reset restarts the process for real."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from ocpp.v16 import call

from tests.csms import TestCsms
from tests.test_cli import _free_port, run_with_csms


async def test_hard_reset_restarts_the_process(tmp_path: Path, csms: TestCsms) -> None:
    process = await asyncio.create_subprocess_exec(
        *run_with_csms(csms.url, tmp_path, _free_port()), stderr=asyncio.subprocess.PIPE
    )
    try:
        await csms.wait_status(1, "Available", timeout=15)
        first_side = csms.side
        assert (await csms.call(call.Reset(type="Hard"))).status == "Accepted"
        mark = len(csms.received)
        await csms.wait_for("BootNotification", since=mark, timeout=15)
        assert process.returncode is None  # the same process (exec), not an exit
        assert csms.side is not first_side
        await csms.wait_status(1, "Available", since=mark, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    log = stderr.decode()
    assert "Hard reset: restarting the process" in log
    assert process.returncode == 0
