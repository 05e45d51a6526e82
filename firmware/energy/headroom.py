"""Main-fuse protection: what the box may draw on top of the house without blowing the
supply's fuse.

The grid meter sees the house and this box together, so the house's load on a phase is the
grid current less this box's own; the headroom is what the fuse leaves of it on the worst
phase the EV uses. A rise in house load cuts the limit at once, by the whole excess; a fall
raises it only gradually and past a hysteresis, so a kettle switching off and on does not
move the pilot each poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def fuse_headroom_a(
    fuse_a: float,
    grid_a: Sequence[float | None],
    own_a: Sequence[float | None],
    phases_used: Sequence[int],
) -> float | None:
    """The current the EV may take per phase, never below 0; None when the grid meter reads
    none of the phases the EV uses (the caller's failsafe decides then)."""
    headroom: float | None = None
    for phase in phases_used:
        grid = grid_a[phase] if phase < len(grid_a) else None
        if grid is None:
            continue
        own = own_a[phase] if phase < len(own_a) else None
        house = grid - (own or 0.0)
        left = fuse_a - house
        headroom = left if headroom is None else min(headroom, left)
    return None if headroom is None else max(0.0, headroom)


@dataclass(frozen=True)
class Ramp:
    up_a_per_s: float = 1.0
    """How fast a freed headroom is given to the EV."""
    hysteresis_a: float = 0.5
    """A headroom less than this above the limit does not raise it."""


def next_fuse_limit(previous_a: float | None, headroom_a: float, dt_s: float, ramp: Ramp) -> float:
    """The limit after one poll: down at once to the headroom, up by at most the ramp."""
    if previous_a is None or headroom_a <= previous_a:
        return headroom_a
    if headroom_a < previous_a + ramp.hysteresis_a:
        return previous_a
    return min(headroom_a, previous_a + ramp.up_a_per_s * max(0.0, dt_s))
