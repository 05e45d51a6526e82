"""A whole day at a site through the real controller on a manual clock: the scenario's house
and PV, the bench's EV charging all day, a grid meter read every poll, the site's limit
sources wired as the wallbox wires them. A day runs in seconds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pievse.firmware.app.site_sources import (
    register_charging_mode,
    register_main_fuse,
    register_phase_planner,
)
from pievse.firmware.clock import ManualClock
from pievse.firmware.config import Config, ControlConfig, SiteConfig
from pievse.firmware.persistence.store import Store
from pievse.firmware.site.grid_readings import GridReadings
from pievse.hal.interfaces import PilotState
from pievse.hal.sim.scenario import Scenario
from tests.rigs.controller_rig import controller_rig

VOLTS = 230.0
OVER_TOLERANCE_A = 0.1
"""An offer of exactly the headroom puts the grid at the fuse; rounding is not an overload."""
NAIVE = SiteConfig(
    pv_enable_delay_s=0.0,
    pv_disable_delay_s=0.0,
    pv_min_charge_s=0.0,
    pv_hysteresis_a=0.0,
    pv_smoothing_s=0.0,
    ramp_up_a_per_s=100.0,
    hysteresis_a=0.0,
    three_phase_delay_s=0.0,
    phase_switch_pause_s=5.0,
    max_phase_switches=100,
)
"""Follows the surplus and the headroom every poll: no delays, no hysteresis, no ramp, a
phase switch whenever the other count would carry more."""


@dataclass
class DayReport:
    scenario: str
    mode: str
    seconds_over_fuse: float = 0.0
    """Beyond one poll plus the EV's 5 s response (IEC 61851-1)."""
    peak_overload_a: float = 0.0
    ev_kwh: float = 0.0
    ev_from_pv_kwh: float = 0.0
    ev_from_grid_kwh: float = 0.0
    contactor_cycles: int = 0
    opened_under_load: int = 0
    phase_switches: int = 0
    """Those the EV saw (it had drawn in this plug-in)."""
    phases_switched_under_load: int = 0
    samples: list[float] = field(default_factory=list, repr=False)
    offered_a: list[tuple[float, float]] = field(default_factory=list, repr=False)
    """(seconds into the day, what the pilot offered) each poll."""
    events: list[tuple[float, str]] = field(default_factory=list, repr=False)
    """(seconds into the day, what happened): closes, opens, phase switches."""

    @property
    def pv_share(self) -> float:
        return 0.0 if self.ev_kwh == 0 else self.ev_from_pv_kwh / self.ev_kwh


def run_day(
    scenario: Scenario,
    data: Path,
    mode: str,
    main_fuse_a: float = 0.0,
    naive: bool = False,
    protect: bool = True,
    start_s: float = 0.0,
    end_s: float | None = None,
    poll_s: float = 1.0,
    ev_phases: int = 3,
    ev_ignores_phase_switch: bool = False,
    grid_silent: tuple[float, float] | None = None,
    site_changes: dict[str, float] | None = None,
) -> DayReport:
    """`main_fuse_a` is what the grid is measured against; `protect` False leaves the box
    unaware of it (0 turns both off). `grid_silent`: from when to when the grid meter
    gives no reading; `site_changes`: [site] keys set otherwise than shipped."""
    site = replace(
        NAIVE if naive else SiteConfig(),
        main_fuse_a=main_fuse_a if protect else 0.0,
        **(site_changes or {}),
    )
    control = ControlConfig(duty_hold_s=0.0) if naive else ControlConfig()
    config = Config(site=site, control=control)
    clock = ManualClock()
    report = DayReport(scenario.name, mode)
    with controller_rig(data, config, clock) as rig:
        plant, controller = rig.plant, rig.controller
        grid = GridReadings(clock.monotonic, controller.wake)
        own = plant.meter_values

        fuse = register_main_fuse(
            controller, site, grid, clock.monotonic, lambda: controller.measurements
        )
        store = Store(data / "site.db")
        charging_mode = register_charging_mode(
            controller,
            site,
            store,
            grid,
            clock.monotonic,
            lambda: own()["Power.Active.Import"],
            rig.board.ratings,
        )
        charging_mode.set(mode, None)
        register_phase_planner(controller, site, fuse, charging_mode, lambda _now: None, clock)
        controller.supervisor.watch_inputs()

        def probe(signal: str, _level: float) -> None:
            loaded = plant.read_input("contactor_mirror") or any(plant.ev_status()["current_a"])
            report.phases_switched_under_load += signal == "phase_coil" and loaded

        plant.probe_outputs(probe)
        plant.set_ev("B", None, ev_phases, ev_ignores_phase_switch)
        controller.sessions.remote_start("DAY", None)
        allowance_s = poll_s + 5.0
        over_run = 0.0
        was_closed = False
        phases = controller.phases.switched
        t = start_s
        end = scenario.duration_s if end_s is None else end_s
        while t < end:
            moment = scenario.at(t)
            values = own()
            ev_a = [values[f"Current.Import/L{i}"] for i in (1, 2, 3)]
            ev_w = values["Power.Active.Import"]
            house_w = sum(moment.house_a) * VOLTS
            grid_a = [h + e for h, e in zip(moment.house_a, ev_a, strict=True)]
            silent = grid_silent is not None and grid_silent[0] <= t < grid_silent[1]
            if not silent:
                grid.feed(grid_a, moment.pv_w - house_w - ev_w)
            # The EV as IEC 61851-1 asks of it: it draws (C) while the pilot oscillates and
            # goes to B when the PWM stops, so the contactor opens without load.
            full = plant.ev_status()["soc_percent"] >= 100.0
            wanted = "C" if controller.duty is not None and not full else "B"
            if wanted != plant.ev_status()["state"]:
                plant.set_ev(wanted, None, None)
            rig.read_meter()
            rig.step(poll_s)
            t += poll_s
            report.offered_a.append((t, controller.offered_a))
            overload = max(grid_a) - main_fuse_a if main_fuse_a else 0.0
            over_run = over_run + poll_s if overload > OVER_TOLERANCE_A else 0.0
            if over_run > allowance_s:
                report.seconds_over_fuse += poll_s
            report.peak_overload_a = max(report.peak_overload_a, overload)
            from_pv = min(ev_w, max(0.0, moment.pv_w - house_w))
            report.ev_kwh += ev_w * poll_s / 3.6e6
            report.ev_from_pv_kwh += from_pv * poll_s / 3.6e6
            report.ev_from_grid_kwh += (ev_w - from_pv) * poll_s / 3.6e6
            closed = controller.contactor_closed
            report.contactor_cycles += closed and not was_closed
            if closed != was_closed:
                report.events.append((t, "closed" if closed else "opened"))
            # Opened while the EV still asked for energy (C/D): the box broke the load.
            drawing = controller.pilot_sample.state in (PilotState.C, PilotState.D)
            report.opened_under_load += was_closed and not closed and drawing
            was_closed = closed
            if controller.phases.switched != phases:
                phases = controller.phases.switched
                report.events.append((t, f"{phases} phase(s)"))
            report.phase_switches = max(report.phase_switches, controller.phases.switches)
        store.close()
    return report
