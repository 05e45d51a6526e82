"""Whole days through the real controller on a manual clock (seconds of test time): the
main fuse holds through the evening peak, passing clouds do not cycle the contactor in
`pv` mode, and a PV charge draws its energy from the sun."""

from __future__ import annotations

from pathlib import Path

import pytest

from pievse.hal.sim.scenario import Scenario, ScenarioError
from tests.rigs.day_rig import run_day

HOUR = 3600.0


def test_the_evening_peak_never_holds_the_grid_over_the_fuse(tmp_path: Path) -> None:
    day = Scenario.bundled("evening_peak")
    report = run_day(day, tmp_path, "fast", 25.0, start_s=17 * HOUR, end_s=21 * HOUR)
    assert report.ev_kwh > 10, "it charged through the evening"
    assert report.seconds_over_fuse == 0.0
    assert report.opened_under_load == 0
    unprotected = run_day(
        day, tmp_path / "off", "fast", 25.0, protect=False, start_s=17 * HOUR, end_s=21 * HOUR
    )
    assert unprotected.seconds_over_fuse > 1800, "without protection the peak blows the fuse"
    assert unprotected.ev_kwh > report.ev_kwh, "the fuse, not the EV, held it back"


def test_a_grid_meter_that_falls_silent_at_the_peak_drops_the_offer_to_the_failsafe(
    tmp_path: Path,
) -> None:
    silent = (18.5 * HOUR, 19 * HOUR)
    report = run_day(
        Scenario.bundled("evening_peak"), tmp_path, "fast", 25.0,
        start_s=18 * HOUR, end_s=20 * HOUR, grid_silent=silent,
    )  # fmt: skip
    timeout_s = 11.0  # [site] grid_timeout_s
    during = [a for t, a in report.offered_a if silent[0] + timeout_s + 1 < t < silent[1]]
    assert during and max(during) == 6.0, "the failsafe current while the reading is stale"
    after = [a for t, a in report.offered_a if t > silent[1] + 60]
    assert max(after) > 6.0, "it recovers on its own"
    assert report.seconds_over_fuse == 0.0
    assert report.opened_under_load == 0


def test_passing_clouds_in_pv_mode_cycle_the_contactor_a_few_times_at_most(
    tmp_path: Path,
) -> None:
    day = Scenario.bundled("cloudy_day")
    report = run_day(day, tmp_path, "pv", start_s=8 * HOUR, end_s=18 * HOUR)
    naive = run_day(day, tmp_path / "naive", "pv", naive=True, start_s=8 * HOUR, end_s=18 * HOUR)
    assert report.ev_kwh > 5
    assert report.contactor_cycles <= 4 < naive.contactor_cycles
    assert report.phase_switches <= 2
    assert report.pv_share >= naive.pv_share - 0.10
    assert report.opened_under_load == naive.opened_under_load == 0
    assert report.phases_switched_under_load == naive.phases_switched_under_load == 0


def test_a_sunny_pv_day_charges_mostly_from_the_sun_and_nothing_at_night(tmp_path: Path) -> None:
    report = run_day(
        Scenario.bundled("sunny_day"), tmp_path, "pv", start_s=4 * HOUR, end_s=20 * HOUR
    )
    assert report.ev_kwh > 10
    assert report.pv_share > 0.85
    events = [what for _, what in report.events]
    assert events[:2] == ["1 phase(s)", "closed"], "a morning's surplus starts on one phase"
    assert "3 phase(s)" in events, "the midday surplus is taken on three"
    assert report.contactor_cycles <= 1 + report.phase_switches <= 3
    assert report.phases_switched_under_load == report.opened_under_load == 0


def test_a_one_phase_car_is_not_switched_for(tmp_path: Path) -> None:
    """It draws on L1 whatever is switched in: the box sees it on its meter and stays."""
    report = run_day(
        Scenario.bundled("sunny_day"), tmp_path, "pv", start_s=10 * HOUR, end_s=14 * HOUR,
        ev_phases=1,
    )  # fmt: skip
    assert report.ev_kwh > 10, "the surplus is turned into amperes on the one phase it uses"
    assert report.phase_switches == 0
    assert report.pv_share > 0.95


def test_an_ev_that_ignores_a_switch_to_three_phases_is_left_on_what_works(
    tmp_path: Path,
) -> None:
    """It found one phase at its first draw and keeps drawing on one after the 1p->3p
    switch: the box counts that from its meter and switches no more in this plug-in."""
    report = run_day(
        Scenario.bundled("sunny_day"), tmp_path, "pv", start_s=8 * HOUR, end_s=14 * HOUR,
        ev_ignores_phase_switch=True,
    )  # fmt: skip
    events = [what for _, what in report.events]
    assert events[:2] == ["1 phase(s)", "closed"]
    assert report.phase_switches == 1, "the one switch up, then no more"
    assert report.pv_share > 0.95, "PV still converts with the one phase it draws on"
    assert report.ev_kwh > 15


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t_s,house\n0,1\n", "expected the columns"),
        ("t_s,house_l1_a,house_l2_a,house_l3_a,pv_w\n0,1,1,1,x\n", "line 2: not a number"),
        ("t_s,house_l1_a,house_l2_a,house_l3_a,pv_w\n60,1,1,1,0\n0,1,1,1,0\n", "time must ascend"),
        ("t_s,house_l1_a,house_l2_a,house_l3_a,pv_w\n0,-1,1,1,0\n", "negative"),
    ],
)
def test_a_bad_scenario_file_is_refused_with_its_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "day.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        Scenario.load(path)
