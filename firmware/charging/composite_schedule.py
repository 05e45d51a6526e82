"""The composite schedule: what the installed charging profiles allow over a time window.

Pure functions of the profiles, the window and a little context (nominal voltage, the
board's phases, the running transaction's start). Each profile becomes a list of segments
(start, end, limit in amperes per phase); within a purpose the highest stack level that
has a segment at an instant wins; the composite is the lower of ChargePointMaxProfile and
the TxProfile where one applies, else the TxDefaultProfile (a connector's own before
connector 0's). Everything is computed in amperes; W converts with the nominal voltage and
the phases the current really flows on (the context's): a period's numberPhases is what
the CSMS asks the box to switch to, and a 3-phase EV given "2300 W on one phase" by a box
that cannot switch must still draw 2300 W, not three times that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from pievse.firmware.charging.profiles import ChargingProfile

RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
FOREVER = datetime.max.replace(tzinfo=UTC)
EVER_SINCE = datetime.min.replace(tzinfo=UTC)


def _later(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, clipped to the representable instants: profiles are checked to end
    before 2100 when set, but a schedule must never raise whatever it is given."""
    try:
        return moment + delta
    except OverflowError:
        return FOREVER if delta > timedelta() else EVER_SINCE


@dataclass(frozen=True)
class Context:
    nominal_voltage_v: float
    phases: int
    """The phases in use now."""
    transaction_start: datetime | None = None


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    limit_a: float
    phases: int
    """The period's numberPhases, or the phases in use where it names none."""
    profile: ChargingProfile
    requested_phases: int | None = None
    """The period's numberPhases as given."""


def to_amps(limit: float, unit: str, phases: int, voltage_v: float) -> float:
    return limit if unit == "A" else limit / (voltage_v * phases)


def from_amps(amps: float, unit: str, phases: int, voltage_v: float) -> float:
    return amps if unit == "A" else amps * voltage_v * phases


def _starts(
    profile: ChargingProfile, start: datetime, end: datetime, ctx: Context
) -> list[datetime]:
    """The instants the profile's schedule (re)starts that can matter inside [start, end)."""
    schedule = profile.schedule
    if profile.kind == "Relative":
        return [] if ctx.transaction_start is None else [ctx.transaction_start]
    if profile.kind == "Absolute":
        return [schedule.start or profile.received_at]
    assert schedule.start is not None and profile.recurrency is not None
    period = RECURRENCE[profile.recurrency]
    first = (start - schedule.start) // period
    last = (end - schedule.start) // period
    return [_later(schedule.start, k * period) for k in range(first, last + 1)]


def profile_segments(
    profile: ChargingProfile, start: datetime, end: datetime, ctx: Context
) -> list[Segment]:
    """The profile's limits inside [start, end), clipped to its validity, sorted."""
    lower = max(start, profile.valid_from or start)
    upper = min(end, profile.valid_to or end)
    if lower >= upper:
        return []
    schedule = profile.schedule
    recurrence = RECURRENCE.get(profile.recurrency or "") if profile.kind == "Recurring" else None
    segments: list[Segment] = []
    for origin in _starts(profile, lower, upper, ctx):
        duration = schedule.duration_s
        stop = _later(origin, timedelta(seconds=duration)) if duration else None
        if recurrence is not None:
            repeat = _later(origin, recurrence)
            stop = min(stop, repeat) if stop else repeat
        bounds = [_later(origin, timedelta(seconds=p.start_s)) for p in schedule.periods]
        ends = [*bounds[1:], stop]
        for period, seg_start, seg_end in zip(schedule.periods, bounds, ends, strict=True):
            if stop is not None:
                seg_end = stop if seg_end is None else min(seg_end, stop)
            a = max(seg_start, lower)
            b = upper if seg_end is None else min(seg_end, upper)
            if a >= b:
                continue
            phases = period.number_phases or ctx.phases
            amps = to_amps(period.limit, schedule.unit, ctx.phases, ctx.nominal_voltage_v)
            segments.append(Segment(a, b, amps, phases, profile, period.number_phases))
    return segments


Chooser = Callable[[list[Segment | None]], Segment | None]


def _sweep(timelines: Sequence[list[Segment]], choose: Chooser) -> list[Segment]:
    """Walks sorted, non-overlapping timelines together; `choose` picks from what is active
    at each instant (None where a timeline has nothing) the segment that holds."""
    points = sorted({t for line in timelines for s in line for t in (s.start, s.end)})
    cursors = [0] * len(timelines)
    result: list[Segment] = []
    for a, b in pairwise(points):
        active: list[Segment | None] = []
        for i, line in enumerate(timelines):
            while cursors[i] < len(line) and line[cursors[i]].end <= a:
                cursors[i] += 1
            seg = line[cursors[i]] if cursors[i] < len(line) else None
            active.append(seg if seg is not None and seg.start <= a else None)
        chosen = choose(active)
        if chosen is None:
            continue
        last = result[-1] if result else None
        same = (
            last is not None
            and last.end == a
            and last.profile is chosen.profile
            and last.limit_a == chosen.limit_a
            and last.phases == chosen.phases
            and last.requested_phases == chosen.requested_phases
        )
        if same:
            assert last is not None
            result[-1] = replace(last, end=b)
        else:
            result.append(replace(chosen, start=a, end=b))
    return result


def _highest_stack(active: list[Segment | None]) -> Segment | None:
    present = [s for s in active if s is not None]
    return max(present, key=lambda s: s.profile.stack_level, default=None)


def _first(active: list[Segment | None]) -> Segment | None:
    return next((s for s in active if s is not None), None)


def _lowest_of_max_and_tx(active: list[Segment | None]) -> Segment | None:
    maximum, tx, default = active
    charging = tx or default
    present = [s for s in (maximum, charging) if s is not None]
    return min(present, key=lambda s: s.limit_a, default=None)


def purpose_timeline(
    profiles: Sequence[ChargingProfile], start: datetime, end: datetime, ctx: Context
) -> list[Segment]:
    return _sweep([profile_segments(p, start, end, ctx) for p in profiles], _highest_stack)


def composite(
    profiles: Sequence[ChargingProfile],
    connector_id: int,
    start: datetime,
    end: datetime,
    ctx: Context,
) -> list[Segment]:
    """Segments where some profile limits connector `connector_id` (1 is the only one; 0,
    the whole box, has the same limits with one connector). Gaps mean no profile limit."""

    def of(purpose: str, connector: int) -> list[ChargingProfile]:
        return [p for p in profiles if p.purpose == purpose and p.connector_id == connector]

    own = 1 if connector_id == 0 else connector_id
    tx_default = _sweep(
        [
            purpose_timeline(of("TxDefaultProfile", own), start, end, ctx),
            purpose_timeline(of("TxDefaultProfile", 0), start, end, ctx),
        ],
        _first,
    )
    return _sweep(
        [
            purpose_timeline(of("ChargePointMaxProfile", 0), start, end, ctx),
            purpose_timeline(of("TxProfile", own), start, end, ctx),
            tx_default,
        ],
        _lowest_of_max_and_tx,
    )
