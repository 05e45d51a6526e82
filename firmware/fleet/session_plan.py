"""What a fleet box's EV and driver do: the bench steps of one plug-in after another, each
after its delay. Scripted sessions are the same for every box (only shifted by its boot);
random ones draw their times from the box's own seeded generator, so a run repeats."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SESSION_KINDS = ("none", "scripted", "random")


@dataclass(frozen=True)
class Step:
    delay_s: float
    """After the step before."""
    action: str
    """"ev" (value: the pilot state A..D), "tag" (value: the card presented), "fault" or
    "clear" (value: the bench fault raised or cleared)."""
    value: str


@dataclass(frozen=True)
class SessionShape:
    charge_s: float = 300.0
    """Scripted: each charge; random: the mean."""
    idle_s: float = 60.0
    """Unplugged between two sessions (random: the mean)."""


FAULT_AFTER_S = 5.0
"""A faulty box's fault comes this long into a charge (or halfway, in a shorter one) ..."""
FAULT_FOR_S = 5.0
"""... and is cleared this long after (an RCD trip stays latched until the unplug)."""


def _plug_in(
    tag: str, wait_s: float, card_after_s: float, charge_s: float, fault: str | None
) -> list[Step]:
    charging = [Step(charge_s, "ev", "B")]
    if fault is not None:
        into = min(FAULT_AFTER_S, charge_s / 2)
        cleared = min(FAULT_FOR_S, (charge_s - into) / 2)
        charging = [
            Step(into, "fault", fault),
            Step(cleared, "clear", fault),
            Step(charge_s - into - cleared, "ev", "B"),
        ]
    return [
        Step(wait_s, "ev", "B"),
        Step(card_after_s, "tag", tag),
        Step(1.0, "ev", "C"),
        *charging,
        Step(2.0, "ev", "A"),
    ]


def session_steps(
    kind: str, tag: str, shape: SessionShape, seed: int, fault: str | None = None
) -> Iterator[Step]:
    """Endless for "scripted" and "random"; nothing for "none". `fault`: the bench fault
    this box shows in every charge (a fleet's share of faulty boxes)."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"sessions: expected one of {', '.join(SESSION_KINDS)}, got {kind!r}")
    rng = random.Random(seed)
    first = True
    while kind != "none":
        if kind == "scripted":
            yield from _plug_in(tag, 5.0 if first else shape.idle_s, 1.0, shape.charge_s, fault)
        else:
            yield from _plug_in(
                tag,
                rng.expovariate(1 / shape.idle_s) if not first else rng.uniform(1, shape.idle_s),
                rng.uniform(1.0, 10.0),
                max(10.0, rng.expovariate(1 / shape.charge_s)),
                fault,
            )
        first = False
