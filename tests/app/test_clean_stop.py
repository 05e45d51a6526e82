"""A clean stop (SIGTERM) of a charging `pievse run`, as systemd stops it: the transaction
ends with reason Other (the box does not know whether it comes back) and the connectors are
reported Unavailable, with nothing after them that would invite a new session (no
Preparing, no Available)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.rigs.csms import TestCsms
from tests.rigs.csms201 import TestCsms201
from tests.rigs.process import free_port, run_with_csms

AFTER_THE_STOP = {"1.6": "StopTransaction", "2.0.1": "TransactionEvent"}


async def _charge(port: int, csms: TestCsms | TestCsms201) -> None:
    base = f"http://127.0.0.1:{port}/api/bench"
    async with aiohttp.ClientSession() as http:
        for action, body in (("ev", {"state": "C"}), ("tag", {"id_tag": "CARD-1"})):
            async with http.post(f"{base}/{action}", json=body) as response:
                assert response.status == 200
    if isinstance(csms, TestCsms201):
        await csms.wait_event("Updated", "ChargingStateChanged", timeout=15)
    else:
        await csms.wait_status(1, "Charging", timeout=15)


def _status(payload: dict[str, Any]) -> str:
    return payload.get("status") or payload["connector_status"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_sigterm_ends_the_session_and_leaves_the_connectors_unavailable(
    tmp_path: Path, version: str
) -> None:
    csms: TestCsms | TestCsms201 = TestCsms201() if version == "2.0.1" else TestCsms()
    await csms.start()
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *run_with_csms(csms.url, tmp_path, port, version), stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await csms.wait_status(1, "Available", timeout=20)
        await _charge(port, csms)
        mark = len(csms.received)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
        await csms.stop()
    after = csms.received[mark:]
    actions = [r.action for r in after]
    assert AFTER_THE_STOP[version] in actions, actions
    # On 2.0.1 an Updated event (a rate that changed as the stop began) may come first.
    stop_at = next(
        i
        for i, r in enumerate(after)
        if r.action == AFTER_THE_STOP[version] and r.payload.get("event_type") in (None, "Ended")
    )
    stop = after[stop_at].payload
    if version == "2.0.1":
        assert stop["event_type"] == "Ended"
        assert stop["transaction_info"]["stopped_reason"] == "Other"
    else:
        assert stop["reason"] == "Other"
    statuses = [
        (r.payload["connector_id"], _status(r.payload))
        for r in after[stop_at:]
        if r.action == "StatusNotification"
    ]
    assert (1, "Unavailable") in statuses
    assert {status for _, status in statuses} == {"Unavailable"}, statuses
