"""A limit source is code fed from outside; one that raises must not stop the control step.
It counts as 0 A until it answers again, is logged once a minute, and the box is not Faulted
for it (a raising source used to trip Fault.INTERNAL on every step)."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from pievse.firmware.control.limits import FAILED_CODE
from tests.control.test_phase_switch import follow
from tests.rigs.controller_rig import ControllerRig


class Flaky:
    def __init__(self) -> None:
        self.broken = False

    def __call__(self, _now: datetime) -> float | None:
        if self.broken:
            raise OverflowError("date value out of range")
        return 16.0


def test_a_raising_source_offers_nothing_without_a_fault_and_recovers(
    rig: ControllerRig, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky()
    rig.controller.limits.register("flaky", flaky)
    rig.plant.set_ev("B", None, None)
    rig.controller.sessions.remote_start("CARD", None)
    follow(rig, 1.0)
    assert rig.contactor == "closed"
    session = rig.controller.session
    flaky.broken = True
    with caplog.at_level(logging.ERROR, logger="pievse.firmware.control"):
        follow(rig, 150.0, dt=0.5)
    assert rig.controller.supervisor.faults() == {}
    assert rig.controller.offer.source == "flaky" and rig.controller.offer.current_a == 0.0
    assert rig.contactor == "open" and rig.controller.duty is None
    assert rig.controller.connector_status().vendor_error_code == FAILED_CODE
    assert rig.controller.session is session, "the session waits, suspended"
    lines = [r for r in caplog.records if "flaky" in r.getMessage()]
    assert len(lines) == 3, "at 0, 60 and 120 s"
    assert not [r for r in caplog.records if "control step failed" in r.getMessage()]
    flaky.broken = False
    follow(rig, 10.0)
    assert rig.contactor == "closed" and rig.controller.offer.current_a == 16.0
    assert rig.controller.connector_status().status == "Charging"


def test_a_raising_degraded_report_is_reported_not_raised(rig: ControllerRig) -> None:
    def broken() -> str | None:
        raise RuntimeError("no grid reading")

    rig.controller.limits.register("fuse", lambda _now: None, degraded=broken)
    follow(rig, 1.0)
    assert rig.controller.supervisor.faults() == {}
    assert rig.controller.connector_status().vendor_error_code == FAILED_CODE
