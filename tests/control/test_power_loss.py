"""A session open when the power went: ended on the right count and time, or resumed.

The controller runs its real start-up on the bench-sim board (real Modbus meter emulator,
real SQLite) with an injected wall clock; the last test kills the real process."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from ocpp.v16 import call

from pievse.firmware.clock import ManualClock
from pievse.firmware.config import parse_config
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.persistence.store import Store
from pievse.firmware.session.sessions import Session, SessionLog
from tests.rigs.controller_rig import controller_rig
from tests.rigs.csms import TestCsms
from tests.rigs.fault_injection import Box

STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LAST_SEEN = STARTED + timedelta(minutes=40)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, str | None]] = []

    def session_started(self, session: Session) -> None:
        self.events.append(("started", session.id, None))

    def session_stopped(self, session: Session, reason: str) -> None:
        self.events.append(("stopped", session.id, reason))

    def session_resumed(self, session: Session) -> None:
        self.events.append(("resumed", session.id, None))


@dataclass
class StartedBox:
    controller: ChargeController
    recorder: Recorder


def _cut_session(data: Path, persisted_wh: float | None) -> int:
    """A session as a power loss leaves it: started, maybe a reading persisted, not stopped."""
    store = Store(data / "pievse.db")
    sessions = SessionLog(store)
    session = sessions.start(1, "CARD", STARTED, 1000.0)
    if persisted_wh is not None:
        sessions.note_reading(session.id, persisted_wh, LAST_SEEN)
    store.close()
    return session.id


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "bench-meter.json").write_text(json.dumps({"energy_wh": 900.0}))
    return tmp_path


@contextlib.asynccontextmanager
async def _start_up(
    data: Path,
    *,
    meter_silent: bool = False,
    ev: str = "A",
    resume: bool = False,
    meter_jump: bool = False,
) -> AsyncIterator[StartedBox]:
    config = parse_config(
        {
            "meter": {"poll_interval_s": 0.1},
            "control": {"resume_after_power_loss": resume, "tick_ms": 20},
        }
    )
    clock = ManualClock(STARTED + timedelta(hours=5))
    with controller_rig(data, config, clock, keep_board_files=True) as rig:
        rig.plant.set_ev(ev, None, None)
        rig.plant.set_fault("meter_offline", meter_silent)
        rig.plant.set_fault("meter_jump", meter_jump)
        recorder = Recorder()
        rig.controller.sessions.listeners.append(recorder)
        task = asyncio.create_task(rig.controller.run())
        try:
            for _ in range(200):
                if recorder.events:
                    break
                await asyncio.sleep(0.01)
            yield StartedBox(rig.controller, recorder)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await rig.board.meter.close()


def _row(data: Path, session_id: int) -> tuple:
    store = Store(data / "pievse.db")
    try:
        return store.db.execute(
            "SELECT stop_reason, meter_stop_wh, stopped_at FROM sessions WHERE id=?",
            (session_id,),
        ).fetchone()
    finally:
        store.close()


async def test_with_the_meter_silent_it_ends_on_the_last_persisted_reading(data: Path) -> None:
    session_id = _cut_session(data, persisted_wh=1750.0)
    async with _start_up(data, meter_silent=True) as box:
        assert box.recorder.events == [("stopped", session_id, "PowerLoss")]
    reason, meter_stop, stopped_at = _row(data, session_id)
    assert (reason, meter_stop) == ("PowerLoss", 1750.0)
    assert datetime.fromisoformat(stopped_at) == LAST_SEEN, "not the restart time"


async def test_with_the_meter_answering_it_ends_on_the_meters_count(data: Path) -> None:
    (data / "bench-meter.json").write_text(json.dumps({"energy_wh": 2000.0}))
    session_id = _cut_session(data, persisted_wh=1750.0)
    async with _start_up(data):
        pass
    assert _row(data, session_id)[:2] == ("PowerLoss", 2000.0)


async def test_a_meter_reading_below_the_persisted_one_is_not_believed(data: Path) -> None:
    session_id = _cut_session(data, persisted_wh=1750.0)  # the meter reads 900: replaced
    async with _start_up(data):
        pass
    assert _row(data, session_id)[:2] == ("PowerLoss", 1750.0)


async def test_a_glitch_on_the_first_poll_is_not_what_the_stop_bills(data: Path) -> None:
    """Judged against the persisted count and the time since it (the box was off for
    4 h 20 min): +1 000 000 kWh cannot be, so the stop takes 1750 Wh, not 1 000 000 900."""
    session_id = _cut_session(data, persisted_wh=1750.0)
    async with _start_up(data, meter_jump=True) as box:
        assert box.controller.meter.energy_refused is not None
    assert _row(data, session_id)[:2] == ("PowerLoss", 1750.0)


async def test_nothing_persisted_ends_at_the_start_reading_not_below(data: Path) -> None:
    session_id = _cut_session(data, persisted_wh=None)
    async with _start_up(data, meter_silent=True):
        pass
    assert _row(data, session_id)[:2] == ("PowerLoss", 1000.0)


async def test_resumed_when_configured_and_the_ev_is_still_plugged_in(data: Path) -> None:
    session_id = _cut_session(data, persisted_wh=1750.0)
    async with _start_up(data, ev="C", resume=True) as box:
        assert box.recorder.events == [("resumed", session_id, None)]
        assert box.controller.session is not None and box.controller.session.id == session_id
        for _ in range(100):
            if box.controller.connector_status().status == "Charging":
                break
            await asyncio.sleep(0.02)
        assert box.controller.contactor_closed
    assert _row(data, session_id)[0] is None, "still running, not stopped"


async def test_not_resumed_when_the_ev_left(data: Path) -> None:
    session_id = _cut_session(data, persisted_wh=1750.0)
    async with _start_up(data, ev="A", resume=True) as box:
        assert box.recorder.events == [("stopped", session_id, "PowerLoss")]


async def test_a_killed_box_resumes_the_same_transaction(tmp_path: Path, csms: TestCsms) -> None:
    """SIGKILL mid-charge with resume on: the CSMS sees one transaction, one start and one
    StopTransaction, after the unplug."""
    async with aiohttp.ClientSession() as http:
        box = Box(tmp_path, csms.url, lambda _start: True)
        box.http = http
        try:
            await box.start()
            await csms.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"))
            await box.call("/api/bench/ev", {"state": "C"})
            await box.call("/api/bench/tag", {"id_tag": "CARD"})
            await box.wait_for(lambda s: s["connectors"]["1"]["transaction_id"] is not None, 5)
            box.kill()
            mark = len(csms.received)
            await box.start()
            status = await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging", 5)
            assert status is not None and status["connectors"]["1"]["transaction_id"] == 1001
            await csms.wait_for("MeterValues", lambda p: p["transaction_id"] == 1001, since=mark)
            await box.call("/api/bench/ev", {"state": "A"})
            stop = await csms.wait_for("StopTransaction", since=mark)
        finally:
            box.terminate()
    assert (stop["transaction_id"], stop["reason"]) == (1001, "EVDisconnected")
    assert len(csms.of("StartTransaction")) == 1
    assert len(csms.of("StopTransaction")) == 1


async def test_a_tag_presented_while_the_core_starts_is_not_taken_for_a_cut_session(
    data: Path,
) -> None:
    """The meter is silent at first, so the core's start takes its polls; a card and a
    plugged-in EV meanwhile start a new session only after the cut one is settled, and only
    the cut one ends as PowerLoss."""
    cut_id = _cut_session(data, persisted_wh=1750.0)
    config = parse_config({"meter": {"poll_interval_s": 0.1}, "control": {"tick_ms": 20}})
    with controller_rig(data, config, ManualClock(STARTED + timedelta(hours=5))) as rig:
        rig.plant.set_ev("C", None, None)
        rig.plant.set_fault("meter_offline", True)
        recorder = Recorder()
        rig.controller.sessions.listeners.append(recorder)
        task = asyncio.create_task(rig.controller.run())
        try:
            await asyncio.sleep(0)
            assert rig.controller.sessions.remote_start("CARD-2", None)
            for _ in range(20):
                rig.controller.wake()
                await asyncio.sleep(0.01)
            rig.plant.set_fault("meter_offline", False)  # before the third poll fails
            for _ in range(300):
                if len(recorder.events) >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await rig.board.meter.close()
    new_id = recorder.events[1][1] if len(recorder.events) > 1 else None
    assert recorder.events == [("stopped", cut_id, "PowerLoss"), ("started", new_id, None)]
    assert new_id != cut_id
    assert _row(data, new_id)[0] is None, "the new session still runs"
