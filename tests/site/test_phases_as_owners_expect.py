"""One phase or three as an owner expects it, over hours on the manual clock through the
real controller: after a 3p->1p switch in `pv` mode the offer is back when the pause ends;
`min_pv` at night charges its minimum on one phase; in `fast` mode a fuse that leaves three
phases too little switches to one at once instead of leaving the car suspended."""

from __future__ import annotations

from pathlib import Path

from pievse.hal.sim.scenario import Scenario
from tests.rigs.day_rig import run_day

PAUSE_S = 10.0
"""[site] phase_switch_pause_s, as shipped."""


def _scenario(tmp_path: Path, rows: list[tuple[float, float, float, float, float]]) -> Scenario:
    path = tmp_path / "day.csv"
    lines = ["t_s,house_l1_a,house_l2_a,house_l3_a,pv_w"]
    lines += [",".join(f"{v:g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return Scenario.load(path)


def test_after_a_switch_to_one_phase_in_pv_mode_the_offer_is_back_when_the_pause_ends(
    tmp_path: Path,
) -> None:
    sun_goes = 1800.0
    day = _scenario(
        tmp_path,
        [(0, 0.5, 0.5, 0.5, 6500.0), (sun_goes, 0.5, 0.5, 0.5, 6500.0),
         (sun_goes + 1, 0.5, 0.5, 0.5, 3300.0), (7200, 0.5, 0.5, 0.5, 3300.0)],
    )  # fmt: skip
    # Unsmoothed, the surplus misses three phases' minimum the moment the one-phase choice
    # begins: the PV stop and the switch down fall due in the same step.
    report = run_day(
        day, tmp_path / "box", "pv", end_s=7200.0, site_changes={"pv_smoothing_s": 0.0}
    )
    switched = [t for t, what in report.events if what == "1 phase(s)"]
    assert switched, report.events
    offered_again = next(t for t, a in report.offered_a if t > switched[0] and a >= 6.0)
    assert offered_again - switched[0] <= PAUSE_S + 5.0, (
        f"offer back {offered_again - switched[0]:.0f} s after the switch, not after a "
        "further pv_enable_delay_s"
    )
    assert report.opened_under_load == 0 and report.phases_switched_under_load == 0


def test_min_pv_without_surplus_charges_its_minimum_on_one_phase(tmp_path: Path) -> None:
    night = _scenario(tmp_path, [(0, 0.5, 0.5, 0.5, 0.0), (3600, 0.5, 0.5, 0.5, 0.0)])
    report = run_day(night, tmp_path / "box", "min_pv", end_s=3600.0)
    assert "1 phase(s)" in [what for _, what in report.events], report.events
    assert 1.0 < report.ev_kwh < 1.6, f"6 A on one phase for an hour, not 3 x 6 A: {report}"
    assert report.phases_switched_under_load == 0


def test_in_fast_mode_a_fuse_that_starves_three_phases_switches_to_one_at_once(
    tmp_path: Path,
) -> None:
    heavy = 600.0
    day = _scenario(
        tmp_path,
        [(0, 2.0, 2.0, 2.0, 0.0), (heavy, 2.0, 2.0, 2.0, 0.0),
         (heavy + 1, 2.0, 21.0, 21.0, 0.0), (3600, 2.0, 21.0, 21.0, 0.0)],
    )  # fmt: skip
    report = run_day(day, tmp_path / "box", "fast", 25.0, end_s=3600.0)
    switched = [t for t, what in report.events if what == "1 phase(s)"]
    assert switched, report.events
    assert switched[0] - heavy < 60.0, "not the PV disable delay's 180 s"
    suspended = [t for t, a in report.offered_a if heavy + 5 < t < heavy + 300 and a < 6.0]
    assert len(suspended) < 60, "the car waits for the pause, not for minutes"
    assert report.seconds_over_fuse == 0.0 and report.opened_under_load == 0
