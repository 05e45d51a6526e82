"""What a flood leaves behind is bounded: security events are summed up per type and window,
the outbox keeps at most its bound of messages that are not transaction messages (never
dropping a transaction message), and a flood of invalid frames on the wire gives a handful
of events with the count."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.clock import ManualClock
from pievse.firmware.config import Config
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import core_key_specs
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.persistence.store import Store
from pievse.firmware.security.event_bursts import EventBursts
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.sessions import SessionLog
from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms

START = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = ("InvalidMessages", "TamperDetectionActivated")


@given(
    st.lists(st.tuples(st.sampled_from(TYPES), st.floats(min_value=0, max_value=30)), max_size=200),
    st.integers(min_value=1, max_value=5),
    st.floats(min_value=1, max_value=20),
)
def test_every_event_is_recorded_or_counted_once(
    steps: list[tuple[str, float]], burst: int, window_s: float
) -> None:
    bursts = EventBursts(burst, window_s)
    now = 0.0
    passed: dict[str, list[float]] = {t: [] for t in TYPES}
    counted = dict.fromkeys(TYPES, 0)
    for event_type, gap in steps:
        now += gap
        for summary in bursts.due(now):
            counted[summary.event_type] += summary.count
            assert summary.first <= summary.last
        if bursts.admit(event_type, "x", now, START + timedelta(seconds=now)):
            passed[event_type].append(now)
    for summary in bursts.flush():
        counted[summary.event_type] += summary.count
    for event_type in TYPES:
        total = sum(1 for t, _ in steps if t == event_type)
        assert len(passed[event_type]) + counted[event_type] == total
        times = passed[event_type]
        for i, at in enumerate(times):
            in_window = [t for t in times[i:] if t < at + window_s]
            assert len(in_window) <= 2 * burst, "at most two windows' bursts overlap"
    assert bursts.next_due() is None


def test_a_burst_is_summed_up_when_its_window_ends(tmp_path: Path) -> None:
    store = Store(tmp_path / "pievse.db")
    clock = ManualClock()
    sent: list[dict[str, str]] = []
    log = SecurityLog(
        store, clock, burst=3, window_s=60, sender=lambda _action, payload: sent.append(payload)
    )
    for n in range(1000):
        log.record("InvalidMessages", f"frame {n}")
        clock.advance(0.01)
    assert [e.tech_info for e in log.events()] == ["frame 0", "frame 1", "frame 2"]
    clock.advance(60)
    log.summarise_due()
    summary = log.events()[-1]
    assert summary.type == "InvalidMessages"
    assert summary.tech_info.startswith("997 more InvalidMessages from 2026-01-01T00:00:00.030Z")
    assert summary.tech_info.endswith("; last: frame 999")
    assert len(sent) == 4
    log.record("InvalidMessages", "after the window")
    assert log.events()[-1].tech_info == "after the window", "a new window passes again"
    store.close()


async def test_the_outbox_bounds_other_messages_but_never_drops_a_transaction_one(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "pievse.db")
    keys = ConfigurationKeys(store, core_key_specs(Config(), frozenset()))
    sessions = SessionLog(store)
    session = sessions.start(1, "CARD", START, 0.0)
    outbox = Outbox(store, keys, max_other=20)
    for n in range(100):
        outbox.put("StatusNotification", {"n": n})
        outbox.put_durable("SecurityEventNotification", {"n": n})
        if n % 10 == 0:
            outbox.put_transaction("MeterValues", {"n": n}, session.id)
    assert outbox.dropped == 180
    assert outbox.pending_transaction_messages() == 10
    durable = store.db.execute("SELECT action, session_id FROM outbox").fetchall()
    assert sorted(durable) == sorted(
        [("SecurityEventNotification", None)] * 10 + [("MeterValues", session.id)] * 10
    ), "a dropped durable message leaves the database too"
    restarted = Outbox(store, keys, max_other=20)
    assert restarted.pending_transaction_messages() == 10
    outbox.put_front("StatusNotification", {"n": "now"})
    assert outbox.dropped == 181, "one more went: the oldest, not the status put in front"
    sent: list[object] = []

    async def request(action: str, payload: dict) -> dict:
        sent.append(payload["n"])
        return {}

    pump = asyncio.create_task(outbox.pump(request))
    while len(sent) < 11:
        await asyncio.sleep(0.001)
    pump.cancel()
    assert sent[:11] == ["now", *range(0, 90, 10), 90], "the present first, then in order"
    store.close()


async def test_a_flood_of_invalid_frames_gives_a_few_events_with_the_count(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    side = await csms.connected()
    frames = 3000
    before = len(csms.raw_answers)
    for _ in range(frames):
        await side._connection.send("{}")
    while len(csms.raw_answers) < before + frames:
        await asyncio.sleep(0.05)
    assert all(a[:3] == [4, "-1", "FormationViolation"] for a in csms.raw_answers[before:])
    box.wallbox.security_log.flush()
    invalid = [e for e in box.wallbox.security_log.events() if e.type == "InvalidMessages"]
    assert len(invalid) == 11, "ten, then one summary"
    assert invalid[-1].tech_info.startswith(f"{frames - 10} more InvalidMessages")
    summary = await csms.wait_for(
        "SecurityEventNotification", lambda p: p["tech_info"].startswith(f"{frames - 10} more")
    )
    assert summary["type"] == "InvalidMessages"
    status = await box.status()
    assert status["contactor"] == "closed" and status["ocpp"]["dropped"] == 0
    assert len(csms.of("SecurityEventNotification")) <= 12
