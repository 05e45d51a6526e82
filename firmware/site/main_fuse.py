"""Main-fuse protection as a limit source: the headroom the house leaves under the fuse on
the phases the EV uses, cut at once when the house takes more, given back on a ramp; the
failsafe current while the grid reading is stale."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.phase_switch import IN_USE_A
from pievse.firmware.energy.headroom import Ramp, fuse_headroom_a, next_fuse_limit
from pievse.firmware.site.grid_readings import GridReadings

OwnCurrents = Callable[[], Sequence[float | None]]


class MainFuseLimit:
    def __init__(
        self,
        config: SiteConfig,
        grid: GridReadings,
        monotonic: Callable[[], float],
        own_currents: OwnCurrents,
        phases_in_use: Callable[[], int],
    ) -> None:
        """`phases_in_use`: from L1 up; a phase the box's own meter sees current on counts
        too (a phase contactor that did not open)."""
        self._config = config
        self._grid = grid
        self._monotonic = monotonic
        self._own = own_currents
        self._phases = phases_in_use
        self._ramp = Ramp(config.ramp_up_a_per_s, config.hysteresis_a)
        self._limit_a: float | None = None
        self._at = 0.0
        self.stale = True
        """No fresh grid reading: the failsafe holds (and before the first one, too)."""

    def limit_a(self, _now: datetime) -> float:
        config = self._config
        now = self._monotonic()
        own = self._own()
        headroom = self._headroom(own, self._used(own))
        self.stale = headroom is None
        if headroom is None:
            self._limit_a = None
            return config.failsafe_current_a
        self._limit_a = next_fuse_limit(self._limit_a, headroom, now - self._at, self._ramp)
        self._at = now
        return self._limit_a

    def headroom_a(self, phases: int) -> float:
        """What the fuse would leave per phase with `phases` switched in (from L1 up), for
        choosing between one and three; the failsafe while the reading is stale."""
        headroom = self._headroom(self._own(), range(phases))
        return self._config.failsafe_current_a if headroom is None else headroom

    def _headroom(self, own: Sequence[float | None], phases: Sequence[int]) -> float | None:
        """None while the grid reading is stale."""
        reading = self._grid.fresh(self._config.grid_timeout_s)
        if reading is None:
            return None
        return fuse_headroom_a(self._config.main_fuse_a, reading.current_a, own, phases)

    def _used(self, own: Sequence[float | None]) -> list[int]:
        drawing = {i for i, c in enumerate(own) if c is not None and c >= IN_USE_A}
        return sorted(set(range(self._phases())) | drawing)

    def describe(self) -> dict[str, Any]:
        return {
            "main_fuse_a": self._config.main_fuse_a,
            "limit_a": None if self._limit_a is None else round(self._limit_a, 2),
            "stale": self.stale,
        }
