"""Limit arbitration: the offered current is the lowest of every applicable limit.

Sources register a function of time; OCPP charging profiles and load management plug in
here without the control loop changing. A source is code fed from outside (a charging
profile, a grid reading, a setpoint): one that raises is isolated, not allowed to stop the
step. It counts as 0 A until it answers again, which is the safe side of any limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)
FAILED_LOG_EVERY_S = 60.0
FAILED_CODE = "LimitSourceFailed"
"""The vendor error code while a source raises: the box charges at 0 A and says why."""

LimitFunction = Callable[[datetime], float | None]
"""Returns the source's current limit in amperes now, or None when it imposes none."""


@dataclass(frozen=True)
class Limit:
    source: str
    current_a: float


def arbitrate(limits: Iterable[Limit]) -> Limit:
    """The lowest limit; on a tie the first listed (the most fundamental) names the source."""
    lowest: Limit | None = None
    for limit in limits:
        if lowest is None or limit.current_a < lowest.current_a:
            lowest = limit
    if lowest is None:
        raise ValueError("arbitrate needs at least one limit (the board rating)")
    return lowest


class LimitSources:
    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._sources: dict[str, LimitFunction] = {}
        self._degraded: dict[str, Callable[[], str | None]] = {}
        self._failing: dict[str, float] = {}
        """Source name -> when its failure was last logged, while it raises."""

    def register(
        self,
        name: str,
        function: LimitFunction,
        degraded: Callable[[], str | None] | None = None,
    ) -> None:
        """`degraded`: a source that may fall back to a failsafe (a stale reading) names it
        with a vendor error code, which the connector reports while it lasts."""
        if name in self._sources:
            raise ValueError(f"limit source {name!r} registered twice")
        self._sources[name] = function
        if degraded is not None:
            self._degraded[name] = degraded

    def names(self) -> tuple[str, ...]:
        """Every registered source, in precedence order."""
        return tuple(self._sources)

    def degraded(self) -> str | None:
        """The vendor error code of the first source in its failsafe, if any; a source
        that raised at the last collect (or whose report raises) is `FAILED_CODE`."""
        if self._failing:
            return FAILED_CODE
        for name, report in self._degraded.items():
            try:
                code = report()
            except Exception as exc:
                self._failed(f"{name} (its degraded report)", exc)
                return FAILED_CODE
            if code is not None:
                return code
        return None

    @property
    def failing(self) -> tuple[str, ...]:
        """The sources that raised at the last collect."""
        return tuple(self._failing)

    def collect(self, now: datetime) -> list[Limit]:
        limits = []
        for name, function in self._sources.items():
            try:
                value = function(now)
                current_a = None if value is None else max(0.0, float(value))  # NaN: 0
            except Exception as exc:
                self._failed(name, exc)
                limits.append(Limit(name, 0.0))
                continue
            if self._failing.pop(name, None) is not None:
                log.warning("limit source %s answers again", name)
            if current_a is not None:
                limits.append(Limit(name, current_a))
        return limits

    def _failed(self, name: str, exc: Exception) -> None:
        now = self._monotonic()
        last = self._failing.get(name)
        if last is None or now - last >= FAILED_LOG_EVERY_S:
            self._failing[name] = now
            log.error("limit source %s raised %r; it counts as 0 A until it answers", name, exc)
