"""How several boxes on one supply share its fuse: every box runs this on the same shared
state and gets the same answer, so no box coordinates and none can be lost.

Admission first: in order of need, then priority, then turn, each box that
wants to charge gets its minimum (6 A on each of its phases) if every one of those phases
still has it. Then the rest is shared max-min fair: all admitted boxes rise together; a box
stops at what it wants, and the boxes on a phase that is full stop there. A phase is counted
per box, so a one-phase box on L2 takes nothing from L1 and L3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PHASES = 3
EPSILON_A = 1e-6


@dataclass(frozen=True)
class BoxDemand:
    box: str
    phases: tuple[int, ...]
    """The site's phases (0 = L1) this box draws on."""
    want_a: float
    """The most it could take per phase: the lowest of its other limits."""
    tier: int = 0
    """0: its EV charges or waits to start; 1: plugged in but done (served after tier 0)."""
    priority: int = 0
    """Higher first among the same tier."""
    turn: float = 0.0
    """Lower first among the same priority (`turn_key`)."""


TURN_OFFSET_S = 1e10
"""Puts the three kinds of turn key apart: in a turn, waiting, turn over."""


def turn_key(
    served_since: float | None, waiting_since: float | None, now: float, rotation_s: float
) -> float:
    """Lower is admitted first when not every waiting EV can have its minimum: an EV in its
    turn keeps it for `rotation_s` (earliest turn first), then the longest waiting, and an
    EV whose turn is over goes to the back. All from times every box publishes, so every
    box orders alike."""
    if served_since is not None and now - served_since < rotation_s:
        return served_since - TURN_OFFSET_S
    if waiting_since is not None:
        return waiting_since
    if served_since is not None:
        return served_since + TURN_OFFSET_S
    return 2 * TURN_OFFSET_S


def admit(
    available_a: Sequence[float], demands: Sequence[BoxDemand], min_a: float
) -> list[BoxDemand]:
    """The boxes that get their minimum, in the order they were admitted."""
    left = list(available_a)
    admitted = []
    wanting = [d for d in demands if d.want_a >= min_a and d.phases]
    for demand in sorted(wanting, key=lambda d: (d.tier, -d.priority, d.turn, d.box)):
        if all(left[p] + EPSILON_A >= min_a for p in demand.phases):
            for p in demand.phases:
                left[p] -= min_a
            admitted.append(demand)
    return admitted


def allocate(
    available_a: Sequence[float], demands: Sequence[BoxDemand], min_a: float
) -> dict[str, float]:
    """Every box's current per phase: 0, or between `min_a` and what it wants, with each
    phase's sum within `available_a` (what the fuse leaves on it)."""
    allocation = {d.box: 0.0 for d in demands}
    admitted = admit(available_a, demands, min_a)
    left = [max(0.0, a) for a in available_a]
    for demand in admitted:
        allocation[demand.box] = min_a
        for p in demand.phases:
            left[p] -= min_a
    rising = [d for d in admitted if d.want_a > min_a + EPSILON_A]
    while rising:
        users = [sum(1 for d in rising if p in d.phases) for p in range(PHASES)]
        step = min(
            min(d.want_a - allocation[d.box] for d in rising),
            min(max(0.0, left[p]) / users[p] for p in range(PHASES) if users[p]),
        )
        for demand in rising:
            allocation[demand.box] += step
            for p in demand.phases:
                left[p] -= step
        full = {p for p in range(PHASES) if users[p] and left[p] <= EPSILON_A}
        rising = [
            d
            for d in rising
            if d.want_a - allocation[d.box] > EPSILON_A and not full.intersection(d.phases)
        ]
    return {box: _floor_centiamp(a) for box, a in allocation.items()}


def _floor_centiamp(current_a: float) -> float:
    """Rounded down, so rounding never adds up past the fuse."""
    return math.floor(current_a * 100 + 1e-6) / 100


def available_a(
    fuse_a: float,
    house_a: Sequence[float] | None,
    reserved_a: Sequence[float],
) -> list[float]:
    """What the fuse leaves the sharing boxes on each phase: less the house's load (None:
    the supply feeds only the boxes) and less what is held for boxes not heard from."""
    house = house_a or [0.0] * PHASES
    return [max(0.0, fuse_a - max(0.0, house[p]) - reserved_a[p]) for p in range(PHASES)]


def room_a(
    available: Sequence[float],
    taken: Sequence[tuple[Sequence[int], float]],
    phases: Sequence[int],
) -> float:
    """What a box may raise to on `phases` while the others may still draw what they
    `taken` (their phases, the most their EVs may draw: a decrease is on a pilot at once,
    but its EV has 5 s to follow): a raise never counts on current not yet given back."""
    left = list(available)
    for on, amps in taken:
        for p in on:
            left[p] -= amps
    return max(0.0, min((left[p] for p in phases), default=0.0))


def house_load_a(
    grid_a: Sequence[float | None], draws_a: Mapping[str, Sequence[float | None]]
) -> list[float]:
    """The grid meter sees the house and the boxes; the house is what the boxes do not
    explain. A phase the grid meter does not read counts as fully loaded (never as free)."""
    house = []
    for p in range(PHASES):
        grid = grid_a[p] if p < len(grid_a) else None
        if grid is None:
            house.append(float("inf"))
            continue
        boxes = sum((draw[p] or 0.0) for draw in draws_a.values() if p < len(draw))
        house.append(max(0.0, grid - boxes))
    return house
