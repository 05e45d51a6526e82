"""1p/3p switching on the bench-sim board's phase contactor, stepped on a manual clock: never
under load, the pause in state F (or B1), the same session afterwards, the cap, an EV that
does not follow, and a phase contactor whose mirror disagrees."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pievse.firmware.config import Config, SiteConfig
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.phase_switch import Stage
from tests.rigs.controller_rig import ControllerRig, controller_rig

PAUSE_S = 10.0


def follow(rig: ControllerRig, seconds: float, dt: float = 0.1) -> None:
    """Steps on; the EV draws (C) while the pilot oscillates and rests in B when it stops,
    as IEC 61851-1 asks of it; the meter is read every step."""
    for _ in range(round(seconds / dt)):
        wanted = "C" if rig.controller.duty is not None else "B"
        if rig.plant.ev_status()["state"] not in (wanted, "A"):
            rig.plant.set_ev(wanted, None, None)
        rig.read_meter()
        rig.step(dt)


def charging(rig: ControllerRig) -> None:
    rig.plant.set_ev("B", None, None)
    rig.controller.sessions.remote_start("CARD", None)
    follow(rig, 1.0)
    assert rig.contactor == "closed"
    assert rig.plant.ev_status()["current_a"] == [32.0, 32.0, 32.0]


def test_a_switch_to_one_phase_stops_the_current_first_and_pauses_in_state_f(
    rig: ControllerRig,
) -> None:
    charging(rig)
    session = rig.controller.session
    coil_changes: list[tuple[bool, bool]] = []
    rig.plant.probe_outputs(
        lambda signal, level: (
            coil_changes.append((bool(level), rig.plant.read_input("contactor_mirror")))
            if signal == "phase_coil"
            else None
        )
    )
    phases = rig.controller.phases
    assert phases.request(1)
    rig.step()
    assert rig.controller.duty is None, "the PWM stops at once"
    follow(rig, 1.0)
    assert coil_changes == [(False, False)], "switched once, with the main contactor open"
    assert phases.stage == Stage.PAUSE
    assert rig.controller.pilot_sample.state == "F"
    assert rig.status == "SuspendedEVSE"
    assert rig.controller.supervisor.faults() == {}, "its own state F is no pilot error"
    follow(rig, PAUSE_S - 1.5)
    assert rig.contactor == "open", "the whole pause"
    follow(rig, 2.0)
    assert rig.contactor == "closed"
    assert rig.controller.session is session, "the same transaction"
    assert rig.plant.ev_status()["current_a"] == [32.0, 0.0, 0.0]
    assert (phases.switched, phases.in_use, phases.switches) == (1, 1, 1)


def test_b1_holds_the_pilot_at_plus_12_v_instead(tmp_path: Path) -> None:
    config = Config(site=replace(SiteConfig(), phase_switch_pilot="B1"))
    with controller_rig(tmp_path, config) as rig:
        rig.controller.supervisor.watch_inputs()
        charging(rig)
        rig.controller.phases.request(1)
        follow(rig, 1.0)
        assert rig.controller.phases.stage == Stage.PAUSE
        assert rig.controller.pilot_sample.state == "B"
        assert rig.plant.ev_status()["current_a"] == [0.0, 0.0, 0.0]


def test_before_the_ev_has_drawn_a_switch_needs_no_pause_and_is_not_counted(
    rig: ControllerRig,
) -> None:
    rig.plant.set_ev("B", None, None)
    follow(rig, 0.5)
    phases = rig.controller.phases
    assert phases.request(1)
    follow(rig, 0.2)
    assert (phases.stage, phases.switched, phases.switches) == (Stage.STEADY, 1, 0)
    rig.controller.sessions.remote_start("CARD", None)
    follow(rig, 1.0)
    assert rig.plant.ev_status()["current_a"] == [32.0, 0.0, 0.0]


def test_the_switches_of_one_plug_in_are_capped(tmp_path: Path) -> None:
    config = Config(site=replace(SiteConfig(), max_phase_switches=2))
    with controller_rig(tmp_path, config) as rig:
        rig.controller.supervisor.watch_inputs()
        charging(rig)
        phases = rig.controller.phases
        for target in (1, 3):
            assert phases.request(target)
            follow(rig, PAUSE_S + 3)
            assert phases.switched == target
        assert not phases.request(1), "the cap is reached"
        rig.plant.set_ev("A", None, None)
        follow(rig, 0.5)
        assert phases.switches == 0, "a new plug-in starts over"


def test_an_ev_that_stays_on_one_phase_after_a_switch_up_is_left_alone(
    rig: ControllerRig,
) -> None:
    rig.plant.set_ev("B", None, None, ignores_phase_switch=True)
    rig.controller.phases.request(1)
    follow(rig, 0.3)
    rig.controller.sessions.remote_start("CARD", None)
    follow(rig, 1.0)
    phases = rig.controller.phases
    assert phases.request(3)
    follow(rig, PAUSE_S + 3)
    assert rig.plant.ev_status()["current_a"] == [32.0, 0.0, 0.0]
    assert phases.refused
    assert (phases.switched, phases.in_use) == (3, 1)
    assert not phases.request(1), "no more switches for this EV"


def test_a_welded_phase_contactor_faults_and_the_main_contactor_stays_open(
    rig: ControllerRig,
) -> None:
    charging(rig)
    rig.plant.set_fault("phase_contactor_weld", True)
    rig.controller.phases.request(1)
    follow(rig, 2.0)
    assert Fault.PHASE_CONTACTOR in rig.controller.supervisor.faults()
    status = rig.controller.connector_status()
    assert (status.status, status.error_code, status.vendor_error_code) == (
        "Faulted",
        "PowerSwitchFailure",
        "PhaseContactor",
    )
    assert rig.contactor == "open"
    assert rig.controller.session is None, "the session ended"
    rig.plant.set_fault("phase_contactor_weld", False)
    rig.plant.set_ev("A", None, None)
    follow(rig, PAUSE_S)
    assert rig.controller.supervisor.faults() == {}, "repaired and unplugged: it clears"


def test_a_phase_contactor_that_does_not_pull_in_faults(rig: ControllerRig) -> None:
    rig.plant.set_ev("B", None, None)
    rig.controller.phases.request(1)
    follow(rig, 0.3)
    rig.plant.set_fault("phase_contactor_stuck_open", True)
    rig.controller.phases.request(3)
    follow(rig, 0.5)
    assert Fault.PHASE_CONTACTOR in rig.controller.supervisor.faults()
    rig.controller.sessions.remote_start("CARD", None)
    follow(rig, 1.0)
    assert rig.contactor == "open", "no charge on phases the box cannot count"


def test_the_outside_asks_through_the_core_and_reads_its_snapshot(rig: ControllerRig) -> None:
    charging(rig)
    before = rig.controller.state.phases
    assert (before.switched, before.in_use, before.stage) == (3, 3, Stage.STEADY)
    rig.controller.request_phases(1)
    assert rig.controller.state.phases == before, "the snapshot changes with the core's step"
    follow(rig, 1.0)
    assert rig.controller.state.phases.describe() == {
        "switchable": True,
        "switched": 1,
        "in_use": 1,
        "stage": "pause",
        "switches": 1,
        "refused": False,
    }
