"""Control-loop timing rules with an injected clock: nothing here sleeps for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from pievse.firmware.control.pilot_duty import PilotDuty
from tests.rigs.controller_rig import ControllerRig, controller_rig


async def test_duty_changes_at_most_once_per_five_seconds(rig: ControllerRig) -> None:
    await rig.start_charging()
    assert rig.status == "Charging"
    assert rig.duty == 53.33
    rig.step(10.0)  # quiet period: the next change applies within one tick
    rig.limit_a = 16.0
    rig.step(0.1)
    assert rig.duty == 26.67
    rig.limit_a = 20.0
    rig.step(1.0)
    assert rig.duty == 26.67, "held: the last change was 1 s ago"
    rig.step(3.999)
    assert rig.duty == 26.67
    rig.step(0.001)  # exactly 5 s after the last change
    assert rig.duty == 33.33


async def test_suspend_is_never_held_and_the_contactor_waits_for_the_ev(rig: ControllerRig) -> None:
    await rig.start_charging()
    assert rig.status == "Charging"
    rig.limit_a = 4.0
    rig.step(0.1)  # within the hold period of the session's first duty, yet at once
    assert rig.duty is None
    assert rig.status == "SuspendedEVSE"
    assert rig.contactor == "closed", "the EV is given time to answer with C->B"
    rig.step(5.9)
    assert rig.contactor == "closed"
    rig.step(0.1)  # 6 s without C->B: opened under load
    assert rig.contactor == "open"

    rig.limit_a = 10.0
    rig.step(0.1)
    assert rig.duty == 16.67, "resuming from suspend is not held"
    assert rig.contactor == "open", "closing waits for a sample with the PWM running"
    rig.step(0.0)
    assert rig.contactor == "closed"
    assert rig.status == "Charging"


async def test_ev_answering_c_to_b_opens_at_once(rig: ControllerRig) -> None:
    await rig.start_charging()
    assert rig.status == "Charging"
    rig.limit_a = 0.0
    rig.step(0.1)
    rig.plant.set_ev("B", None, None)
    rig.step(0.1)
    assert rig.contactor == "open"
    assert rig.status == "SuspendedEVSE"


async def test_no_contactor_without_authorization(rig: ControllerRig) -> None:
    rig.plant.set_ev("C", None, None)
    rig.step(1.0)
    assert rig.status == "Preparing"
    assert rig.duty is None
    assert rig.contactor == "open"


async def test_authorization_expires_when_no_ev_plugs_in(rig: ControllerRig) -> None:
    await rig.controller.sessions.present_tag("LATE")
    rig.step(61.0)
    rig.plant.set_ev("C", None, None)
    rig.step(0.1)
    assert rig.status == "Preparing"


@pytest.mark.parametrize("config_tag", ["FREE"])
async def test_free_vend_authorizes_on_plug_in(tmp_path: Path, config_tag: str) -> None:
    from pievse.firmware.config import parse_config

    config = parse_config({"standalone": {"free_vend_id_tag": config_tag}})
    with controller_rig(tmp_path, config) as rig:
        controller = rig.controller
        rig.plant.set_ev("C", None, None)
        controller.step()
        controller.step()  # the first sample with the PWM running closes the contactor
        assert controller.session is not None
        assert controller.session.id_tag == "FREE"
        assert controller.connector_status().status == "Charging"


async def test_an_ev_without_diode_never_gets_the_contactor_closed(rig: ControllerRig) -> None:
    coil: list[float] = []
    rig.plant.probe_outputs(
        lambda signal, level: coil.append(level) if signal == "contactor_coil" else None
    )
    rig.plant.set_fault("diode", True)
    rig.plant.set_ev("B", None, None)
    await rig.controller.sessions.present_tag("CARD")
    rig.plant.set_ev("C", None, None)
    trips = 0
    for _ in range(5):  # the driver tries again after each retry (fault_retry_s = 10 s)
        for _ in range(12):
            rig.step(1.0)
            if rig.controller.connector_status().error_code == "EVCommunicationError":
                trips += 1
                break
        assert rig.contactor == "open"
        rig.step(10.0)
        assert rig.status == "Finishing"
        await rig.controller.sessions.present_tag("CARD")
    assert trips == 5
    assert 1.0 not in coil


async def test_a_decrease_is_on_the_pilot_at_once_and_a_raise_waits_five_seconds_after_it(
    rig: ControllerRig,
) -> None:
    await rig.start_charging()
    assert rig.status == "Charging"
    rig.step(10.0)
    rig.limit_a = 20.0
    rig.step(0.1)
    assert rig.duty == 33.33
    rig.limit_a = 10.0
    rig.step(1.0)  # within the hold of the last change, yet at once: a fuse must not wait
    assert rig.duty == 16.67
    rig.limit_a = 16.0
    rig.step(4.9)
    assert rig.duty == 16.67, "a raise waits 5 s after the decrease (the EV's time to follow)"
    rig.step(0.1)
    assert rig.duty == 26.67


def test_the_ev_may_draw_the_highest_offer_of_its_last_five_seconds() -> None:
    duty = PilotDuty(5.0)
    duty.aim(53.33, 0.0)  # 32 A
    duty.aim(33.33, 10.0)  # 20 A
    duty.aim(16.67, 11.0)  # 10 A: the EV may still be following the first decrease
    assert duty.offered_a == pytest.approx(10.0, abs=0.01)
    assert duty.allowed_a(12.0, 5.0) == pytest.approx(32.0, abs=0.01)
    assert duty.allowed_a(15.5, 5.0) == pytest.approx(20.0, abs=0.01)
    assert duty.allowed_a(16.5, 5.0) == pytest.approx(10.0, abs=0.01)
