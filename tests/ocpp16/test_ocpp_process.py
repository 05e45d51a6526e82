"""The `pievse run` process against the CSMS: a hard reset restarts the process for real."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.conftest import FAST_CONFIG, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.process import free_port, run_with_csms


async def test_hard_reset_restarts_the_process(tmp_path: Path, csms: TestCsms) -> None:
    process = await asyncio.create_subprocess_exec(
        *run_with_csms(csms.url, tmp_path, free_port()), stderr=asyncio.subprocess.PIPE
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


async def test_a_service_that_ignores_cancellation_does_not_hold_up_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("pievse.firmware.app.wallbox.STOP_TASKS_S", 0.3)
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn(), name="stubborn")
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        box.wallbox._services.append(task)
        started = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - started < 3.0
    assert "task stubborn did not stop within 0 s" in caplog.text
    release.set()
    task.cancel()
    await task
