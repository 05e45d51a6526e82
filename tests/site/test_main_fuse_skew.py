"""Main-fuse protection when the grid meter sees the EV before the box's own meter does:
with a constant house a plug-in ramps up once and settles, instead of counting the EV's new
draw as house, cutting, stopping and starting the EV again; a house that really rises is
still cut at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pievse.firmware.config import SiteConfig
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.main_fuse import MainFuseLimit
from pievse.hal.interfaces import Measurements

FUSE_A = 25.0
EPOCH = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
PLUG_IN_S = 30.0
"""The house has been read for a while when the EV comes."""
EV_FOLLOWS_S = 5.0
"""The bench EV takes its full 5 s (IEC 61851-1) to reach a new offer."""


def _reading(at_s: float, draw_a: float) -> Measurements:
    three = (draw_a, draw_a, draw_a)
    return Measurements(
        EPOCH + timedelta(seconds=at_s), (230.0,) * 3, three, (0.0,) * 3, (1.0,) * 3,
        draw_a * 690.0, 1.0, 50.0, 0.0,
    )  # fmt: skip


class Evening:
    """A box, its EV and a house on one 25 A fuse, a second at a time: the grid meter reads
    at the full second, the box's latest own reading is `own_lag_s` older."""

    def __init__(
        self, house_a: list[float], ev_follows_s: float = EV_FOLLOWS_S, own_lag_s: float = 0.5
    ) -> None:
        self.house_a = house_a
        self.ev_follows_s = ev_follows_s
        self.own_lag_s = own_lag_s
        self.t = 0.0
        config = SiteConfig(main_fuse_a=FUSE_A, grid_timeout_s=11.0)
        self.grid = GridReadings(lambda: self.t, lambda: None)
        self.own: Measurements | None = None
        self.fuse = MainFuseLimit(config, self.grid, lambda: self.t, lambda: self.own, lambda: 3)
        self.offered = 0.0
        self.offered_at = 0.0
        self.from_a = 0.0
        self.suspends = 0
        self.peak_over_a = 0.0

    def draw_a(self, at: float) -> float:
        """Linear to the offer over `ev_follows_s`."""
        share = min(1.0, max(0.0, (at - self.offered_at) / self.ev_follows_s))
        return self.from_a + (self.offered - self.from_a) * share

    def second(self) -> float:
        grid = [h + self.draw_a(self.t) for h in self.house_a]
        self.peak_over_a = max(self.peak_over_a, max(grid) - FUSE_A)
        self.grid.feed(grid, 0.0)
        self.own = _reading(self.t - self.own_lag_s, self.draw_a(self.t - self.own_lag_s))
        limit = self.fuse.limit_a(EPOCH + timedelta(seconds=self.t))
        offer = min(32.0, limit) if limit >= 6.0 and self.t >= PLUG_IN_S else 0.0
        if offer != self.offered:
            self.suspends += self.offered > 0.0 and offer == 0.0
            self.from_a, self.offered, self.offered_at = self.draw_a(self.t), offer, self.t
        self.t += 1.0
        return limit


@pytest.mark.parametrize(("ev_follows_s", "own_lag_s"), [(5.0, 0.5), (5.0, 1.0), (0.5, 1.0)])
def test_a_plug_in_under_a_loaded_house_ramps_up_once_and_settles(
    ev_follows_s: float, own_lag_s: float
) -> None:
    evening = Evening([14.0, 4.0, 5.0], ev_follows_s, own_lag_s)
    limits = [evening.second() for _ in range(150)]
    assert evening.suspends == 0, "the EV's own new draw is no house load"
    assert limits[-1] == pytest.approx(11.0, abs=0.5), "the house's 14 A on L1 leaves 11 A"
    assert evening.peak_over_a <= 0.0


def test_a_house_that_rises_is_still_cut_at_once() -> None:
    evening = Evening([14.0, 4.0, 5.0])
    for _ in range(90):
        evening.second()
    evening.house_a = [20.0, 4.0, 5.0]
    assert evening.second() <= 5.0, "the oven's 6 A come off the offer at the next reading"
    over_s = 0
    for _ in range(30):
        limit = evening.second()
        over_s += evening.draw_a(evening.t) + 20.0 > FUSE_A + 0.1
    assert over_s <= EV_FOLLOWS_S + 1, "over the fuse only while the EV follows its pilot"
    assert limit < 6.0, "5 A left: the EV waits"
    evening.house_a = [14.0, 4.0, 5.0]
    limits = [evening.second() for _ in range(60)]
    assert limits[-1] == pytest.approx(11.0, abs=0.5), "and comes back when it switches off"
