"""Injectable time, so schedules, timeouts and retries are tested without real waiting."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

CLOCK_TOLERANCE_S = 1e-6
BUILD_DATE = datetime(2026, 12, 1, tzinfo=UTC)
"""No wall time before this source was released is believed: a CSMS that says so is wrong
(raise it with each release)."""
LATEST_WALL = datetime(2100, 1, 1, tzinfo=UTC)
"""No wall time from outside at or after this is believed, and nothing scheduled may end
after it: far beyond a box's service life, far below where date arithmetic overflows."""


def implausible_wall_time(moment: datetime) -> str | None:
    """Why a wall time from outside (the CSMS's) cannot be ours, or None when it can.
    Never raises: the reason quotes the time as given (converting 9999-12-31T23:00-05:00
    to UTC would overflow)."""
    if moment < BUILD_DATE:
        return f"{moment.isoformat()} is before this release ({BUILD_DATE.date()})"
    if moment >= LATEST_WALL:
        return f"{moment.isoformat()} is not before {LATEST_WALL.year}"
    return None


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""
        ...

    def set_wall(self, now: datetime) -> None:
        """The CSMS's time (BootNotification, Heartbeat) becomes ours. The caller has
        checked it with `implausible_wall_time`; `SystemClock` refuses one that fails
        (ValueError), so that `now` can never overflow."""
        ...


class SystemClock:
    """The host clock, shifted by what the CSMS says; the system time itself is not touched
    (that needs root, and NTP on the Pi owns it)."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set_wall(self, now: datetime) -> None:
        reason = implausible_wall_time(now)
        if reason is not None:
            raise ValueError(f"wall time refused: {reason}")
        self._offset = now - datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._wall

    def set_wall(self, now: datetime) -> None:
        self._wall = now

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)


def iso_utc(moment: datetime) -> str:
    """OCPP dateTime: UTC with a Z, to the millisecond."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_ocpp_datetime(text: str) -> datetime:
    """An OCPP dateTime from the CSMS, in UTC; a local time without an offset would be
    ambiguous, so it is refused like any other malformed value (ValueError), and so is one
    whose UTC falls outside the years 1..9999 (9999-12-31T23:00-05:00): every later use
    (`iso_utc`, comparisons, storing it) can then take it without overflowing."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date-time out of range in UTC: {text!r}") from None


def elapsed(since: float, now: float, duration_s: float) -> bool:
    """Whether `duration_s` has passed; tolerant of float rounding in accumulated clocks."""
    return now - since >= duration_s - CLOCK_TOLERANCE_S
