"""OCPP 1.6 charging profiles as values: parsed once from the wire, checked, serialisable.

The schema check has already passed when a profile arrives here; this module checks what
a schema cannot (period order, what each kind needs) and turns the payload into frozen
records the composite-schedule module evaluates. A profile is stored as the payload it
came in, so what the CSMS sent is what a restart reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from pievse.firmware.clock import LATEST_WALL, parse_ocpp_datetime

PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")
KINDS = ("Absolute", "Recurring", "Relative")
UNITS = {"A": "Current", "W": "Power"}
"""chargingRateUnit -> its name in ChargingScheduleAllowedChargingRateUnit."""
MAX_SPAN_S = 10 * 366 * 86_400
"""Longest duration or period start accepted (ten years): beyond it dates overflow."""


class ProfileError(ValueError):
    """A profile the charge point must answer Rejected; the message says why."""


@dataclass(frozen=True)
class Period:
    start_s: int
    limit: float
    number_phases: int | None


@dataclass(frozen=True)
class Schedule:
    unit: str
    periods: tuple[Period, ...]
    duration_s: int | None
    start: datetime | None
    min_rate: float | None


@dataclass(frozen=True)
class ChargingProfile:
    id: int
    connector_id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: int | str | None
    """1.6 numbers transactions, 2.0.1 names them."""
    schedule: Schedule
    received_at: datetime
    """Absolute profiles without startSchedule start when they arrived."""
    session_id: int | None = None
    """The local session a TxProfile belongs to (its transactionId may not be known yet)."""


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_ocpp_datetime(str(value))
    except ValueError as exc:
        raise ProfileError(str(exc)) from None


def _periods(raw: list[dict[str, Any]]) -> tuple[Period, ...]:
    periods = tuple(
        Period(int(p["start_period"]), float(p["limit"]), p.get("number_phases")) for p in raw
    )
    if not periods:
        raise ProfileError("chargingSchedulePeriod is empty")
    if periods[0].start_s != 0:
        raise ProfileError("the first period must start at 0")
    if any(b.start_s <= a.start_s for a, b in pairwise(periods)):
        raise ProfileError("periods must start in ascending order")
    for period in periods:
        if period.start_s > MAX_SPAN_S:
            raise ProfileError(f"startPeriod {period.start_s} s is more than ten years")
        if period.limit < 0:
            raise ProfileError(f"period limit {period.limit} is negative")
        if period.number_phases is not None and period.number_phases not in (1, 2, 3):
            raise ProfileError(f"numberPhases must be 1..3, got {period.number_phases}")
    return periods


def _check_ends_in_time(profile: ChargingProfile) -> None:
    """A schedule that starts or ends at or after `LATEST_WALL` would never apply on a box
    whose clock stays below it, and near year 9999 its end cannot even be computed (that
    overflow used to fault the box at every step, and again after a restart). Compared as
    `start < LATEST_WALL - span`, which cannot overflow. validTo only shortens a profile,
    so a far one ("valid forever") is taken as it is."""
    schedule, year = profile.schedule, LATEST_WALL.year
    span = timedelta(seconds=max(schedule.duration_s or 0, schedule.periods[-1].start_s))
    if schedule.start is not None and schedule.start >= LATEST_WALL - span:
        raise ProfileError(
            f"startSchedule {schedule.start.isoformat()} plus {span.total_seconds():.0f} s "
            f"ends after {year}"
        )
    if profile.valid_from is not None and profile.valid_from >= LATEST_WALL:
        raise ProfileError(f"validFrom {profile.valid_from.isoformat()} is not before {year}")


def parse_profile(
    payload: dict[str, Any], connector_id: int, received_at: datetime
) -> ChargingProfile:
    """A profile from the ocpp library's snake_case payload (cs_charging_profiles)."""
    raw = payload["charging_schedule"]
    schedule = Schedule(
        unit=raw["charging_rate_unit"],
        periods=_periods(raw["charging_schedule_period"]),
        duration_s=raw.get("duration"),
        start=_time(raw.get("start_schedule")),
        min_rate=raw.get("min_charging_rate"),
    )
    kind = payload["charging_profile_kind"]
    recurrency = payload.get("recurrency_kind")
    if kind == "Recurring" and (recurrency is None or schedule.start is None):
        raise ProfileError("a Recurring profile needs recurrencyKind and startSchedule")
    if kind != "Recurring" and recurrency is not None:
        raise ProfileError(f"recurrencyKind only applies to Recurring profiles, not {kind}")
    if kind == "Relative" and schedule.start is not None:
        raise ProfileError("a Relative profile starts with its transaction: no startSchedule")
    if schedule.duration_s is not None and not 0 < schedule.duration_s <= MAX_SPAN_S:
        raise ProfileError("duration must be positive and at most ten years")
    profile = ChargingProfile(
        id=payload["charging_profile_id"],
        connector_id=connector_id,
        stack_level=payload["stack_level"],
        purpose=payload["charging_profile_purpose"],
        kind=kind,
        recurrency=recurrency,
        valid_from=_time(payload.get("valid_from")),
        valid_to=_time(payload.get("valid_to")),
        transaction_id=payload.get("transaction_id"),
        schedule=schedule,
        received_at=received_at,
    )
    _check_ends_in_time(profile)
    if profile.valid_from and profile.valid_to and profile.valid_to <= profile.valid_from:
        raise ProfileError("validTo must be after validFrom")
    if profile.purpose == "ChargePointMaxProfile" and connector_id != 0:
        raise ProfileError("a ChargePointMaxProfile belongs to connector 0")
    if profile.purpose == "TxProfile" and connector_id == 0:
        raise ProfileError("a TxProfile belongs to a connector with a transaction, not 0")
    if profile.purpose != "TxProfile" and profile.transaction_id is not None:
        raise ProfileError("only a TxProfile names a transactionId")
    return profile
