"""When a 2.0.1 variable monitor raises an event (N04, N07, N08), as a pure function of the
monitor, what it saw last and the value now.

- UpperThreshold / LowerThreshold: an Alerting event when the value goes beyond the limit,
  and one with `cleared` when it comes back; nothing while it stays on one side.
- Delta: an event when a number has moved by at least the monitor's value since the last
  event (the first value seen is the reference), or when any other value changes at all.
- Periodic: an event every `value` seconds, the first one when the monitor starts.

A value the box cannot read now (no meter reading yet) raises nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

THRESHOLDS = ("UpperThreshold", "LowerThreshold")
MONITOR_TYPES = (*THRESHOLDS, "Delta", "Periodic")
"""What the box runs; PeriodicClockAligned is not among them."""


@dataclass(frozen=True)
class Rule:
    type: str
    value: float


@dataclass(frozen=True)
class Seen:
    """What one monitor has seen: its reference value, whether it is beyond its limit, when
    it last reported (monotonic seconds)."""

    reference: str | None = None
    beyond: bool = False
    reported_at: float | None = None


@dataclass(frozen=True)
class Raised:
    trigger: str
    """Alerting, Delta or Periodic."""
    cleared: bool = False


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def judge(rule: Rule, seen: Seen, value: str | None, now_s: float) -> tuple[Raised | None, Seen]:
    if value is None:
        return None, seen
    if rule.type == "Periodic":
        if seen.reported_at is not None and now_s - seen.reported_at < rule.value:
            return None, seen
        return Raised("Periodic"), replace(seen, reported_at=now_s)
    number = _number(value)
    if rule.type in THRESHOLDS:
        if number is None:
            return None, seen
        beyond = number > rule.value if rule.type == "UpperThreshold" else number < rule.value
        if beyond == seen.beyond:
            return None, seen
        return Raised("Alerting", cleared=not beyond), replace(seen, beyond=beyond)
    if seen.reference is None:
        return None, replace(seen, reference=value)
    reference = _number(seen.reference)
    if number is not None and reference is not None:
        moved = abs(number - reference) >= rule.value
    else:
        moved = value != seen.reference
    if not moved:
        return None, seen
    return Raised("Delta"), replace(seen, reference=value)
