"""Thermal derating: the enclosure temperature caps the offered current in steps."""

from __future__ import annotations

from collections.abc import Sequence


def thermal_limit_a(temperature_c: float, steps: Sequence[tuple[float, float]]) -> float | None:
    """The cap of the highest step whose threshold the temperature has reached, else None."""
    limit = None
    for above_c, max_current_a in steps:
        if temperature_c >= above_c:
            limit = max_current_a if limit is None else min(limit, max_current_a)
    return limit
