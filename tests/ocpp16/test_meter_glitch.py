"""One meter poll reading +1 000 000 kWh, the next one correct again: it used to be sent in
MeterValues and billed as meterStop 1 005 000 000 Wh, and every correct reading after it
counted as "went backwards" and latched PowerMeterFailure until a restart. Here the whole
session runs on the injected clock against the real Modbus emulator and the 1.6 CSMS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from pievse.firmware.clock import ManualClock
from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.security_rig import serving

JUMP_WH = 1e9
SPEED = 10.0
"""Simulated seconds per real second."""


@contextlib.asynccontextmanager
async def running_fast(clock: ManualClock) -> AsyncIterator[None]:
    async def tick() -> None:
        while True:
            await asyncio.sleep(0.01)
            clock.advance(0.01 * SPEED)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()


async def glitch_one_poll(box: BenchClient) -> None:
    refused = box.wallbox.controller.meter.errors["implausible"]
    await box.bench("fault", fault="meter_jump", active=True)
    for _ in range(300):
        if box.wallbox.controller.meter.errors["implausible"] > refused:
            break
        await asyncio.sleep(0.01)
    await box.bench("fault", fault="meter_jump", active=False)


async def test_a_one_poll_jump_is_never_reported_nor_billed_and_nothing_latches(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    csms = TestCsms()
    async with (
        serving(csms),
        running_fast(clock),
        running_wallbox(tmp_path, ocpp_config(csms), clock=clock) as box,
    ):
        await csms.wait_status(1, "Available", timeout=8)
        await csms.configure(MeterValueSampleInterval="5")
        start = await charge_under_csms(box, csms)
        began = clock.monotonic()
        await asyncio.sleep(1.0)
        await glitch_one_poll(box)
        await asyncio.sleep(2.0)
        status = await box.status()
        assert status["faults"] == [] and status["connectors"]["1"]["status"] == "Charging"
        pass
        assert status["meter"]["errors"]["implausible"] >= 1
        await box.bench("ev", state="A")
        stop = await csms.wait_for("StopTransaction", timeout=8)
        elapsed_h = (clock.monotonic() - began) / 3600
    assert start["meter_start"] < stop["meter_stop"] < start["meter_start"] + 22_080 * elapsed_h
    sampled = [
        float(value["value"])
        for payload in csms.of("MeterValues")
        for sample in payload["meter_value"]
        for value in sample["sampled_value"]
        if value.get("measurand", "Energy.Active.Import.Register")
        == "Energy.Active.Import.Register"
    ]
    assert sampled and max(sampled) < JUMP_WH / 2
