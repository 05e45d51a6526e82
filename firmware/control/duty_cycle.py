"""Pilot duty cycle for an offered current (IEC 61851-1 table A.7, the EVSE side)."""

from __future__ import annotations

MIN_CURRENT_A = 6.0
MAX_CURRENT_A = 80.0


def duty_percent(offered_a: float) -> float | None:
    """Duty in percent, or None below 6 A, where the pilot must stop oscillating (suspend)."""
    if offered_a < MIN_CURRENT_A:
        return None
    current = min(offered_a, MAX_CURRENT_A)
    if current <= 51.0:
        return current / 0.6
    return current / 2.5 + 64.0


def current_for_duty(duty: float) -> float:
    """The inverse, as an EV reads it; used to judge what the EV may draw under a duty."""
    if duty <= 85.0:
        return duty * 0.6
    return (duty - 64.0) * 2.5
