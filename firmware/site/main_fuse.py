"""Main-fuse protection as a limit source: the headroom the house leaves under the fuse on
the phases the EV uses, cut at once when the house takes more, given back on a ramp; the
failsafe current while the grid reading is stale.

The house is the grid reading less what the EV drew at the moment the grid meter was read.
The two meters are read at different moments, and when an EV starts drawing the grid meter
often sees it before the box's own meter does: taking the house as the grid reading less
the box's latest own reading then counted the EV's new draw as house, cut the offer, the EV
stopped, the house seemed to fall again, and a plug-in stopped and restarted up to six
times. So the house is the same estimate a site makes of its boxes (`HouseEstimate`): the
box's draw at the grid's moment lies between the lowest and the highest it read around
that moment (up to what the EV may draw where the box has not read past it yet), and the
estimate is held while the reading stays within those bounds."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.phase_switch import IN_USE_A
from pievse.firmware.energy.headroom import Ramp, fuse_headroom_a, next_fuse_limit
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.house_estimate import HouseEstimate
from pievse.hal.interfaces import Measurements

OwnReading = Callable[[], Measurements | None]
"""The box's latest own meter reading (when it was read, and the current per phase)."""
THIS_BOX = "this box"
EV_FOLLOWS_S = 7.0
"""An EV may draw an offer for 5 s after it fell (IEC 61851-1), and the own meter's reading
lags by up to a poll: the most the EV may be drawing is the highest limit of this long."""


class MainFuseLimit:
    def __init__(
        self,
        config: SiteConfig,
        grid: GridReadings,
        monotonic: Callable[[], float],
        own_reading: OwnReading,
        phases_in_use: Callable[[], int],
    ) -> None:
        """`phases_in_use`: from L1 up; a phase the box's own meter sees current on counts
        too (a phase contactor that did not open)."""
        self._config = config
        self._grid = grid
        self._monotonic = monotonic
        self._own = own_reading
        self._phases = phases_in_use
        self._ramp = Ramp(config.ramp_up_a_per_s, config.hysteresis_a)
        self._house = HouseEstimate()
        self._fed_at: float | None = None
        """The grid reading (its monotonic `at`) last given to the estimate."""
        self._house_a: list[float] | None = None
        self._limits: deque[tuple[float, float]] = deque()
        """(monotonic s, limit) of the last EV_FOLLOWS_S."""
        self._limit_a: float | None = None
        self._at = 0.0
        self.stale = True
        """No fresh grid reading: the failsafe holds (and before the first one, too)."""

    def limit_a(self, now: datetime) -> float:
        config = self._config
        mono = self._monotonic()
        own = self._own()
        house = self._house_now(now, mono, own)
        headroom = None if house is None else _headroom(config.main_fuse_a, house, self._used(own))
        self.stale = headroom is None
        if headroom is None:
            self._limit_a = None
            self._limits.clear()
            return config.failsafe_current_a
        self._limit_a = next_fuse_limit(self._limit_a, headroom, mono - self._at, self._ramp)
        self._at = mono
        self._limits.append((mono, self._limit_a))
        while mono - self._limits[0][0] > EV_FOLLOWS_S:
            self._limits.popleft()
        return self._limit_a

    def headroom_a(self, phases: int) -> float:
        """What the fuse would leave per phase with `phases` switched in (from L1 up), for
        choosing between one and three; the failsafe while the reading is stale."""
        house = None if self.stale else self._house_a
        headroom = (
            None if house is None else _headroom(self._config.main_fuse_a, house, range(phases))
        )
        return self._config.failsafe_current_a if headroom is None else headroom

    def _house_now(
        self, now: datetime, mono: float, own: Measurements | None
    ) -> list[float] | None:
        """The house per phase (inf where the grid meter reads none), None while the grid
        reading is stale. Moments are wall seconds, the own meter's and the grid's alike."""
        reading = self._grid.fresh(self._config.grid_timeout_s)
        if reading is None:
            self._house_a = None
            return None
        if own is not None:
            current = own.current_a
            draw = (current[0], current[1], current[2])
            self._house.draw(THIS_BOX, own.timestamp.timestamp(), draw)
        if reading.at != self._fed_at:
            self._fed_at = reading.at
            self._house.grid(now.timestamp() - (mono - reading.at), reading.current_a)
        most = max((limit for _, limit in self._limits), default=self._config.main_fuse_a)
        self._house_a = self._house.house_a({THIS_BOX: [most] * 3})
        return self._house_a

    def _used(self, own: Measurements | None) -> list[int]:
        currents = () if own is None else own.current_a
        drawing = {i for i, c in enumerate(currents) if c is not None and c >= IN_USE_A}
        return sorted(set(range(self._phases())) | drawing)

    def describe(self) -> dict[str, Any]:
        return {
            "main_fuse_a": self._config.main_fuse_a,
            "limit_a": None if self._limit_a is None else round(self._limit_a, 2),
            "stale": self.stale,
            "house_a": None
            if self._house_a is None
            else [None if math.isinf(a) else round(a, 1) for a in self._house_a],
        }


def _headroom(fuse_a: float, house_a: Sequence[float], phases: Sequence[int]) -> float | None:
    """On the phases the grid meter reads (the house is inf on the others)."""
    measured = [None if math.isinf(a) else a for a in house_a]
    return fuse_headroom_a(fuse_a, measured, (), phases)
