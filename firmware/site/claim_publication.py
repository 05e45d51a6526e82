"""When a box's claim is due before its heartbeat: what it last published, and whether what
it would publish now moved far enough from that to tell the site at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPUBLISH_A = 0.5
"""A view that moves a share by this much is published at once, not at the heartbeat."""
REDRAW_A = 1.0
"""A draw that moved this much is published at once: the house is told from the draws."""


@dataclass(frozen=True)
class Published:
    """What the last claim said (the defaults: nothing published yet)."""

    demand: tuple[Any, ...] | None = None
    """What of the demand, changed, makes a claim due at once."""
    draw_a: tuple[float | None, ...] = (None, None, None)
    taken_a: float = 0.0
    view: dict[str, float] | None = None

    def outdated_by(
        self,
        demand: tuple[Any, ...],
        draw_a: tuple[float | None, ...],
        taken_a: float,
        view: dict[str, float] | None,
    ) -> bool:
        """The demand, the draw or the share taken changed, or the view moved a share."""
        if demand != self.demand:
            return True
        if abs(taken_a - self.taken_a) >= REPUBLISH_A:
            return True
        if any(map(_moved, draw_a, self.draw_a)):
            return True
        last = self.view
        if last is None or view is None or last.keys() != view.keys():
            return last != view
        return any(abs(last[box] - a) >= REPUBLISH_A for box, a in view.items())


def _moved(now_a: float | None, then_a: float | None) -> bool:
    if now_a is None or then_a is None:
        return (now_a is None) != (then_a is None)
    return abs(now_a - then_a) >= REDRAW_A
