"""Energy management over the shipped scenario days, against a naive controller.

Each day runs whole (24 h) through the real controller on a manual clock, in `pv` mode behind
a main fuse, and again under a naive controller that follows the surplus and the headroom
every poll with no delays, hysteresis or ramp. Prints one row per day and controller.

Then the cloudy day with a 1-phase car and with an EV that ignores phase switches.

Run: python tests/bench/bench_energy.py [--fuse 25] [--mode pv] [--days sunny_day,...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.hal.sim.scenario import SCENARIOS, Scenario  # noqa: E402
from tests.rigs.day_rig import DayReport, run_day  # noqa: E402

HOUR = 3600.0
HEADER = (
    f"{'day':14} {'controller':10} {'s over fuse':>11} {'peak over A':>11} {'EV kWh':>7} "
    f"{'PV share':>8} {'grid kWh':>8} {'cycles':>6} {'under load':>10} {'phase sw':>8} "
    f"{'sw loaded':>9}"
)


def row(report: DayReport, controller: str) -> str:
    return (
        f"{report.scenario:14} {controller:10} {report.seconds_over_fuse:11.0f} "
        f"{report.peak_overload_a:11.1f} {report.ev_kwh:7.1f} {report.pv_share:8.0%} "
        f"{report.ev_from_grid_kwh:8.1f} {report.contactor_cycles:6d} "
        f"{report.opened_under_load:10d} {report.phase_switches:8d} "
        f"{report.phases_switched_under_load:9d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuse", type=float, default=25.0, help="main fuse, A per phase")
    parser.add_argument("--mode", default="pv", choices=("fast", "pv", "min_pv"))
    days = sorted(p.stem for p in SCENARIOS.glob("*.csv"))
    parser.add_argument("--days", default=",".join(days))
    args = parser.parse_args()
    print(f"mode {args.mode}, main fuse {args.fuse:.0f} A, 1 s polls, 24 h per day")
    print(HEADER)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.days.split(","):
            day = Scenario.bundled(name)
            for controller, naive in (("pievse", False), ("naive", True)):
                data = Path(tmp) / f"{name}-{controller}"
                data.mkdir()
                print(row(run_day(day, data, args.mode, args.fuse, naive=naive), controller))
        print(
            f"evening_peak, fast, the EV arriving at 17:00 (the fuse at work), {args.fuse:.0f} A:"
        )
        day = Scenario.bundled("evening_peak")
        for controller, protect in (("pievse", True), ("no fuse", False)):
            data = Path(tmp) / f"evening-{controller}"
            data.mkdir()
            report = run_day(
                day, data, "fast", args.fuse, protect=protect, start_s=17 * HOUR, end_s=24 * HOUR
            )
            print(row(report, controller))
        print(f"cloudy_day, {args.mode}, EVs of other kinds:")
        day = Scenario.bundled("cloudy_day")
        for kind, ev in (
            ("1p car", {"ev_phases": 1}),
            ("ignores sw", {"ev_ignores_phase_switch": True}),
        ):
            data = Path(tmp) / f"cloudy-{kind.replace(' ', '-')}"
            data.mkdir()
            print(row(run_day(day, data, args.mode, args.fuse, **ev), kind))  # type: ignore[arg-type]
    print(
        f"({time.monotonic() - started:.0f} s; grid kWh: EV energy not covered by PV; phase sw: "
        "switches the EV saw; sw loaded: phase contactor switched with current flowing)"
    )


if __name__ == "__main__":
    main()
