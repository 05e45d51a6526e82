"""The house's load on a shared supply: the grid reading less what the site's boxes drew at
the moment the grid meter was read.

The grid reading and the boxes' own readings come from different meters at different
moments, and a meter's value lags its reading by up to a poll. So each box's draw is the
lowest it read from a little before that moment to `LAG_S` after; a grid reading whose
moment every box has read past by `LAG_S` is confirmed, and the house is the higher of what
the newest reading and the newest confirmed one say. A skew then counts as house (less to
share, a raise a few seconds later), never as room the house does not leave.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from pievse.firmware.energy.site_allocation import PHASES, house_load_a

Phases = tuple[float | None, float | None, float | None]
BEFORE_S = 1.0
LAG_S = 2.0
KEEP_S = 20.0


class _Readings:
    """A box's readings of its own draw, by when its meter was read (wall seconds)."""

    def __init__(self) -> None:
        self.seen: deque[tuple[float, Phases]] = deque()

    def add(self, read_at: float, draw: Phases) -> None:
        if self.seen and read_at <= self.seen[-1][0]:
            return
        self.seen.append((read_at, draw))
        while read_at - self.seen[0][0] > KEEP_S:
            self.seen.popleft()

    def around(self, moment: float) -> Phases:
        window = [d for t, d in self.seen if moment - BEFORE_S <= t <= moment + LAG_S]
        if not window:
            window = [d for t, d in self.seen if t < moment][-1:]
        low = [
            min(values) if (values := [c for d in window if (c := d[p]) is not None]) else None
            for p in range(PHASES)
        ]
        return low[0], low[1], low[2]

    def read_past(self, moment: float) -> bool:
        return bool(self.seen) and self.seen[-1][0] >= moment + LAG_S


class HouseEstimate:
    def __init__(self) -> None:
        self._boxes: dict[str, _Readings] = {}
        self._grid: deque[tuple[float, Sequence[float | None]]] = deque()

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

    def house_a(self, boxes: Iterable[str]) -> list[float] | None:
        """Per phase, for the boxes now in the site; None before any grid reading."""
        if not self._grid:
            return None
        names = list(boxes)
        latest = self._estimate(*self._grid[-1], names)
        for moment, currents in reversed(self._grid):
            if all(name in self._boxes and self._boxes[name].read_past(moment) for name in names):
                confirmed = self._estimate(moment, currents, names)
                return [max(a, b) for a, b in zip(latest, confirmed, strict=True)]
        return latest

    def _estimate(
        self, moment: float, currents: Sequence[float | None], names: list[str]
    ) -> list[float]:
        empty = _Readings()
        draws = {name: self._boxes.get(name, empty).around(moment) for name in names}
        return house_load_a(currents, draws)
