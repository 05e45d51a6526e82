"""2.0.1: one meter poll reading +1 000 000 kWh reaches no TransactionEvent (it used to end
the session as Other with PowerMeterFailure latched); the session runs on the injected clock
against the real Modbus emulator (the 1.6 side: tests/ocpp16/test_meter_glitch.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from pievse.firmware.clock import ManualClock
from tests.conftest import ocpp_config, running_wallbox
from tests.ocpp16.test_meter_glitch import JUMP_WH, glitch_one_poll, running_fast
from tests.rigs.csms201 import TestCsms201
from tests.rigs.security_rig import serving


def energy_values(event: dict) -> list[float]:  # type: ignore[type-arg]
    return [
        float(value["value"])
        for sample in event.get("meter_value", [])
        for value in sample["sampled_value"]
        if value.get("measurand", "Energy.Active.Import.Register")
        == "Energy.Active.Import.Register"
    ]


async def test_a_one_poll_jump_reaches_no_transaction_event(tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    csms = TestCsms201()
    async with (
        serving(csms),
        running_fast(clock),
        running_wallbox(tmp_path, ocpp_config(csms), clock=clock) as box,
    ):
        await csms.wait_status(1, "Available", timeout=8)
        await csms.set_variable({"name": "SampledDataCtrlr"}, "TxUpdatedInterval", "1")
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="CARD-1")
        started = await csms.wait_event("Started")
        await asyncio.sleep(1.0)
        await glitch_one_poll(box)
        await asyncio.sleep(2.0)
        status = await box.status()
        assert status["faults"] == [] and status["meter"]["energy_refused"] is None
        await box.bench("ev", state="A")
        ended = await csms.wait_event("Ended")
    assert ended["transaction_info"]["stopped_reason"] == "EVDisconnected"
    begin = energy_values(started)[0]
    every = [v for event in csms.events() for v in energy_values(event)]
    assert len(every) > 2, "Updated events sampled the register during the session"
    assert begin < max(every) < begin + 100_000
    assert max(every) < JUMP_WH / 2
    assert csms.protocol_errors == []
