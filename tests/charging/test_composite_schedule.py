"""The composite schedule against a simple reference: every minute, evaluated by hand.

Profile boundaries are generated on whole minutes, so sampling each minute of the window
sees every period of every profile; the reference knows nothing of segments or sweeps.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pievse.firmware.charging.composite_schedule import RECURRENCE, Context, composite, to_amps
from pievse.firmware.charging.profiles import ChargingProfile, Period, Schedule

BASE = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)  # a Saturday evening: midnight and a week edge
WINDOW = timedelta(days=2, hours=4)
CTX_VOLTAGE = 230.0
CTX_PHASES = 3


def _start_instant(p: ChargingProfile, t: datetime, tx_start: datetime | None) -> datetime | None:
    if p.kind == "Relative":
        return tx_start
    if p.kind == "Absolute":
        return p.schedule.start or p.received_at
    assert p.schedule.start is not None and p.recurrency is not None
    period = RECURRENCE[p.recurrency]
    return p.schedule.start + ((t - p.schedule.start) // period) * period


def reference_limit(p: ChargingProfile, t: datetime, tx_start: datetime | None) -> float | None:
    if (p.valid_from and t < p.valid_from) or (p.valid_to and t >= p.valid_to):
        return None
    origin = _start_instant(p, t, tx_start)
    if origin is None or t < origin:
        return None
    offset = (t - origin).total_seconds()
    if p.schedule.duration_s is not None and offset >= p.schedule.duration_s:
        return None
    period = [q for q in p.schedule.periods if q.start_s <= offset][-1]
    return to_amps(period.limit, p.schedule.unit, CTX_PHASES, CTX_VOLTAGE)


def reference(profiles: list[ChargingProfile], t: datetime, tx_start: datetime | None):
    def purpose(name: str, connector: int) -> float | None:
        best: tuple[int, float] | None = None
        for p in profiles:
            if p.purpose != name or p.connector_id != connector:
                continue
            value = reference_limit(p, t, tx_start)
            if value is not None and (best is None or p.stack_level > best[0]):
                best = (p.stack_level, value)
        return None if best is None else best[1]

    maximum = purpose("ChargePointMaxProfile", 0)
    tx = purpose("TxProfile", 1)
    default = purpose("TxDefaultProfile", 1)
    if default is None:
        default = purpose("TxDefaultProfile", 0)
    charging = tx if tx is not None else default
    present = [v for v in (maximum, charging) if v is not None]
    return min(present) if present else None


minutes = st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)


@st.composite
def profiles(draw: st.DrawFn, profile_id: int) -> ChargingProfile:
    purpose = draw(st.sampled_from(["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]))
    connector = {"ChargePointMaxProfile": 0, "TxProfile": 1}.get(purpose) or draw(
        st.sampled_from([0, 1])
    )
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    recurrency = draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None
    starts = sorted(set(draw(st.lists(st.integers(1, 36 * 60), max_size=4))))
    unit = draw(st.sampled_from(["A", "W"]))
    limits = st.integers(0, 32) if unit == "A" else st.integers(0, 22).map(lambda k: k * 1000)
    periods = tuple(
        Period(m * 60, float(draw(limits)), draw(st.sampled_from([None, 1, 3])))
        for m in [0, *starts]
    )
    start = None if kind == "Relative" else BASE + timedelta(minutes=draw(minutes))
    duration = draw(st.one_of(st.none(), st.integers(1, 3 * 24 * 60).map(lambda m: m * 60)))
    valid_from = draw(st.one_of(st.none(), minutes.map(lambda m: BASE + timedelta(minutes=m))))
    valid_to = draw(st.one_of(st.none(), minutes.map(lambda m: BASE + timedelta(minutes=m))))
    return ChargingProfile(
        id=profile_id,
        connector_id=connector,
        stack_level=draw(st.integers(0, 3)),
        purpose=purpose,
        kind=kind,
        recurrency=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=None,
        schedule=Schedule(unit, periods, duration, start, None),
        received_at=BASE - timedelta(hours=1),
    )


@st.composite
def profile_sets(draw: st.DrawFn) -> list[ChargingProfile]:
    count = draw(st.integers(1, 6))
    drawn = [draw(profiles(i + 1)) for i in range(count)]
    # One profile per (purpose, connector, stackLevel): a new one replaces the old.
    unique: dict[tuple[str, int, int], ChargingProfile] = {}
    for p in drawn:
        unique[(p.purpose, p.connector_id, p.stack_level)] = p
    return list(unique.values())


def _at(segments, t: datetime) -> float | None:
    for s in segments:
        if s.start <= t < s.end:
            return s.limit_a
    return None


@settings(max_examples=150, deadline=None)
@given(profile_sets(), st.one_of(st.none(), minutes.map(lambda m: BASE + timedelta(minutes=m))))
def test_composite_matches_the_minute_by_minute_reference(
    installed: list[ChargingProfile], tx_start: datetime | None
) -> None:
    ctx = Context(CTX_VOLTAGE, CTX_PHASES, tx_start)
    segments = composite(installed, 1, BASE, BASE + WINDOW, ctx)
    for s, nxt in itertools.pairwise(segments):
        assert s.end <= nxt.start, "segments are sorted and do not overlap"
    t = BASE
    while t < BASE + WINDOW:
        expected = reference(installed, t, tx_start)
        got = _at(segments, t)
        if expected is None:
            assert got is None, t
        else:
            assert got == pytest.approx(expected), t
        t += timedelta(minutes=1)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)


@st.composite
def extreme_profiles(draw: st.DrawFn, profile_id: int) -> ChargingProfile:
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    starts = sorted(set(draw(st.lists(st.integers(1, 2**31 - 1), max_size=3))))
    return ChargingProfile(
        id=profile_id,
        connector_id=1,
        stack_level=draw(st.integers(0, 3)),
        purpose=draw(st.sampled_from(["TxDefaultProfile", "TxProfile"])),
        kind=kind,
        recurrency=draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None,
        valid_from=draw(st.one_of(st.none(), instants)),
        valid_to=draw(st.one_of(st.none(), instants)),
        transaction_id=None,
        schedule=Schedule(
            draw(st.sampled_from(["A", "W"])),
            tuple(Period(s, 16.0, None) for s in [0, *starts]),
            draw(st.one_of(st.none(), st.integers(1, 2**31 - 1))),
            None if kind == "Relative" else draw(instants),
            None,
        ),
        received_at=draw(instants),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 1000), min_size=1, max_size=4, unique=True).flatmap(
        lambda ids: st.tuples(*(extreme_profiles(i) for i in ids))
    ),
    instants,
    st.integers(0, 2 * 86_400),
    st.one_of(st.none(), instants),
)
def test_the_composite_never_raises_whatever_the_dates(
    installed: tuple[ChargingProfile, ...], start: datetime, window_s: int, tx: datetime | None
) -> None:
    """A stored profile starting 9999-12-31 with a duration used to overflow here at every
    step; ends past the last representable instant are clipped instead."""
    end = min(start + timedelta(seconds=window_s), datetime(9999, 12, 31, tzinfo=UTC))
    segments = composite(list(installed), 1, start, end, Context(230.0, 3, tx))
    for s in segments:
        assert start <= s.start < s.end <= max(end, start)
