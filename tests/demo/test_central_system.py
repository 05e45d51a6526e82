"""The demo central system as charge points meet it: each transaction gets its own id,
across charge points and across reconnects (a CSMS that hands every box id 1 makes a fleet's
StopTransactions ambiguous)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect

from pievse.firmware.demo.central_system import DemoCentralSystem


async def _start_transaction(url: str, name: str) -> int:
    async with connect(f"{url}/{name}", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
        box = ChargePoint(name, websocket)
        reader = asyncio.create_task(box.start())
        try:
            answer: Any = await box.call(call.StartTransaction(1, "TAG", 0, "2026-12-06T20:00:00Z"))
            return int(answer.transaction_id)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def test_every_transaction_gets_its_own_id_whoever_starts_it() -> None:
    frames: list[str] = []
    csms = DemoCentralSystem(lambda frame, _sent: frames.append(frame))
    await csms.start()
    try:
        ids = [await _start_transaction(csms.url, name) for name in ("a", "b", "a", "c")]
    finally:
        await csms.stop()
    assert len(set(ids)) == 4, ids
