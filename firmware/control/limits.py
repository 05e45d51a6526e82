"""Limit arbitration: the offered current is the lowest of every applicable limit.

Sources register a function of time; OCPP charging profiles and load management plug in
here later without the control loop changing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

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
    def __init__(self) -> None:
        self._sources: dict[str, LimitFunction] = {}
        self._degraded: dict[str, Callable[[], str | None]] = {}

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
        """The vendor error code of the first source in its failsafe, if any."""
        for report in self._degraded.values():
            code = report()
            if code is not None:
                return code
        return None

    def collect(self, now: datetime) -> list[Limit]:
        limits = []
        for name, function in self._sources.items():
            value = function(now)
            if value is not None:
                limits.append(Limit(name, max(0.0, value)))
        return limits
