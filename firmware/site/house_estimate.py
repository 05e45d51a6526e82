"""The house's load on a shared supply: the grid reading less what the site's boxes drew at
the moment the grid meter was read.

The grid reading and the boxes' own readings come from different meters at different
moments, and a meter's value lags its reading by up to a poll. So a box's draw at a grid
reading's moment is only known to lie between the lowest and the highest it read from a
little before that moment to `LAG_S` after, and the house between the grid reading less the
highest draws and the grid reading less the lowest. The estimate is held while readings
stay within those bounds and moves to the upper bound when one leaves them: a box whose EV
changes its draw then moves nothing (its change is no house load, and counting it as one
would lower every share, which changes draws again), a house that certainly changed counts
at once with everything it might be, and once nothing moves the estimate is exact.

It is lowered only from a reading every box has read past by `LAG_S` (confirmed), so a skew
never counts as room the house does not leave. The newest reading, not yet confirmed, may
raise it at once; a box not yet read past it may have drawn up to the share it says it
takes (its EV follows its pilot), so only a rise beyond that counts. What the boxes are allowed
and do not draw is room the fuse still has, so a rise hidden in it overloads nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from pievse.firmware.energy.site_allocation import PHASES, house_load_a

Phases = tuple[float | None, float | None, float | None]
Bounds = tuple[Phases, Phases]
"""The lowest and the highest a box read on each phase."""
BEFORE_S = 1.0
LAG_S = 2.0
KEEP_S = 20.0


class _Readings:
    """A box's readings of its own draw, by when its meter was read (wall seconds)."""

    def __init__(self) -> None:
        self.seen: deque[tuple[float, Phases]] = deque()
        self._around: dict[float, Bounds] = {}
        """By grid moment: a site hears a claim from every box each second and tells the
        house from the same few moments again and again."""

    def add(self, read_at: float, draw: Phases) -> None:
        if self.seen and read_at <= self.seen[-1][0]:
            return
        self.seen.append((read_at, draw))
        while read_at - self.seen[0][0] > KEEP_S:
            self.seen.popleft()
        oldest = self.seen[0][0]
        self._around = {
            m: bounds for m, bounds in self._around.items() if oldest <= m < read_at - LAG_S
        }

    def bounds(self, moment: float, allowed: Sequence[float]) -> Bounds:
        """Where the box has not read past the moment yet, its draw may be up to what it
        is allowed on each phase."""
        low, high = self._around.get(moment) or self._around.setdefault(
            moment, self._bounds_around(moment)
        )
        if self.read_past(moment):
            return low, high
        up = [_higher(high[p], allowed[p] if p < len(allowed) else None) for p in range(PHASES)]
        return low, (up[0], up[1], up[2])

    def _bounds_around(self, moment: float) -> Bounds:
        window = [d for t, d in self.seen if moment - BEFORE_S <= t <= moment + LAG_S]
        if not window:
            window = [d for t, d in self.seen if t < moment][-1:]
        per_phase = [[c for d in window if (c := d[p]) is not None] for p in range(PHASES)]
        low = [min(values) if values else None for values in per_phase]
        high = [max(values) if values else None for values in per_phase]
        return (low[0], low[1], low[2]), (high[0], high[1], high[2])

    def read_past(self, moment: float) -> bool:
        return bool(self.seen) and self.seen[-1][0] >= moment + LAG_S


class HouseEstimate:
    def __init__(self) -> None:
        self._boxes: dict[str, _Readings] = {}
        self._grid: deque[tuple[float, Sequence[float | None]]] = deque()
        self._held: list[float] | None = None
        """The estimate as of the newest confirmed reading."""
        self._held_at = float("-inf")

    def draw(self, box: str, read_at: float, draw: Phases) -> None:
        self._boxes.setdefault(box, _Readings()).add(read_at, draw)

    def forget(self, box: str) -> None:
        self._boxes.pop(box, None)

    def grid(self, moment: float, current_a: Sequence[float | None]) -> None:
        if self._grid and moment <= self._grid[-1][0]:
            return
        self._grid.append((moment, tuple(current_a)))
        while moment - self._grid[0][0] > KEEP_S:
            self._grid.popleft()

    def house_a(self, allowed: Mapping[str, Sequence[float]]) -> list[float] | None:
        """Per phase; `allowed`: the boxes now in the site, with what each may draw on each
        phase (the share it says it takes, on the phases it draws on). None before any grid
        reading."""
        if not self._grid:
            return None
        for moment, currents in self._grid:
            if moment > self._held_at and self._confirmed(moment, allowed):
                self._held = _settle(self._held, self._bounds(moment, currents, allowed))
                self._held_at = moment
        moment, currents = self._grid[-1]
        if moment <= self._held_at:
            assert self._held is not None
            return list(self._held)
        latest = _settle(self._held, self._bounds(moment, currents, allowed))
        if self._held is None:
            return latest
        return [max(a, b) for a, b in zip(latest, self._held, strict=True)]

    def _confirmed(self, moment: float, names: Iterable[str]) -> bool:
        return all(name in self._boxes and self._boxes[name].read_past(moment) for name in names)

    def _bounds(
        self,
        moment: float,
        currents: Sequence[float | None],
        allowed: Mapping[str, Sequence[float]],
    ) -> tuple[list[float], list[float]]:
        """The house at least (less the highest draws) and at most (less the lowest)."""
        empty = _Readings()
        bounds = {
            name: self._boxes.get(name, empty).bounds(moment, up_to)
            for name, up_to in allowed.items()
        }
        least = house_load_a(currents, {name: high for name, (_, high) in bounds.items()})
        most = house_load_a(currents, {name: low for name, (low, _) in bounds.items()})
        return least, most


def _higher(read: float | None, allowed: float | None) -> float | None:
    if read is None or allowed is None:
        return read if allowed is None else allowed
    return max(read, allowed)


def _settle(held: list[float] | None, bounds: tuple[list[float], list[float]]) -> list[float]:
    """Per phase: the held estimate while the reading allows it, else the most it allows."""
    least, most = bounds
    if held is None:
        return list(most)
    return [h if lo <= h <= hi else hi for h, lo, hi in zip(held, least, most, strict=True)]
