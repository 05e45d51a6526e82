"""A fleet's boxes read their meters on one shared Modbus server, not one a box: each box
still reads its own plant and its own energy file through the real client and driver, and a
meter fault injected on one box faults that box alone. (Their stores do not flush every
commit: a simulated box has no power to lose.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pievse.firmware.app.process_share import ProcessShare
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.control.faults import Fault
from pievse.firmware.fleet.box_configs import FleetTiming
from pievse.firmware.fleet.fleet import Fleet, FleetOptions
from tests.rigs.csms import TestCsms

EV_CURRENTS_A = (6.0, 10.0, 16.0)
KEPT_WH = (1_000.0, 2_000.0, 3_000.0)


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def _status(box: Wallbox) -> str:
    return box.controller.connector_status().status


async def _plug_in(box: Wallbox, current_a: float) -> None:
    """Once the box is registered: an EV drawing at most `current_a` on one phase, a card,
    the EV asks for power."""
    bench = box.board.bench
    assert bench is not None and box.ocpp is not None
    await _until(lambda: box.ocpp is not None and box.ocpp.csms.accepted, "registered")
    bench.set_ev("B", current_a, 1)
    await _until(lambda: _status(box) == "Preparing", "the EV plugged in")
    bench.present_tag(f"TAG-{current_a:g}")
    await _until(lambda: _status(box) == "SuspendedEV", "the card taken")
    bench.set_ev("C", None, None)


def _charging_at(box: Wallbox, current_a: float) -> bool:
    m = box.controller.meter.measurements
    return m is not None and m.current_a[0] is not None and abs(m.current_a[0] - current_a) < 0.5


async def test_boxes_on_the_shared_line_read_their_own_meters_and_fault_alone(
    tmp_path: Path, csms: TestCsms
) -> None:
    for i, kept in enumerate(KEPT_WH):
        box_dir = tmp_path / f"fleet-{i + 1:04d}"
        box_dir.mkdir(mode=0o700)
        (box_dir / "bench-meter.json").write_text(json.dumps({"energy_wh": kept}))
    options = FleetOptions(
        boxes=3,
        csms_url=csms.url,
        data_dir=tmp_path,
        sessions="none",
        boot_over_s=0.3,
        timing=FleetTiming(tick_ms=100, meter_poll_s=0.2),
    )
    share = ProcessShare()
    fleet = Fleet(options, lambda _report: None, share)
    stop = asyncio.Event()
    running = asyncio.create_task(fleet.run(stop))
    try:
        await _until(lambda: len(fleet.boxes) == 3, "every box started")
        boxes = sorted(fleet.boxes, key=lambda b: b.config.charge_point.id)
        for box, current_a in zip(boxes, EV_CURRENTS_A, strict=True):
            await _plug_in(box, current_a)
        for box, current_a in zip(boxes, EV_CURRENTS_A, strict=True):
            await _until(lambda b=box, a=current_a: _charging_at(b, a), "each its own EV")
        for box, kept in zip(boxes, KEPT_WH, strict=True):
            energy = box.controller.meter.energy_wh
            assert kept <= energy < kept + 50, "each its own energy file"
        assert share.meter_line is not None and share.meter_line.servers == 1
        flushes = {b.store.db.execute("PRAGMA synchronous").fetchone()[0] for b in boxes}
        assert flushes == {1}, "a simulated box's store does not flush every commit"

        faulty, *healthy = boxes[1], boxes[0], boxes[2]
        assert faulty.board.bench is not None
        faulted_at = datetime.now(UTC)
        faulty.board.bench.set_fault("meter_exception", True)
        supervisor = faulty.controller.supervisor
        await _until(lambda: Fault.METER_OFFLINE in supervisor.faults(), "the faulty box")
        await _until(lambda: not faulty.controller.contactor_closed, "its contactor opens")
        for box, current_a in zip(healthy, (EV_CURRENTS_A[0], EV_CURRENTS_A[2]), strict=True):
            m = box.controller.meter.measurements
            assert m is not None and m.timestamp > faulted_at, "read on since"
            assert not box.controller.supervisor.faults()
            assert sum(box.controller.meter.errors.values()) == 0
            assert box.controller.contactor_closed and _charging_at(box, current_a)
    finally:
        stop.set()
        await running
