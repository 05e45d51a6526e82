"""What is reported is what the pilot runs: while a raise is held, `/api/status`'s
`pilot.offered_a`, the MQTT state's `offered_a` (and so the Home Assistant sensor on it) say
the duty's current, and `next_offered_a` says what comes once the hold allows."""

from __future__ import annotations

from pathlib import Path

from pievse.firmware.app.status_document import PartFailures, status_document
from pievse.firmware.mqtt.state import state_payload
from tests.rigs.controller_rig import controller_rig


async def test_a_held_raise_is_reported_as_next_not_as_offered(tmp_path: Path) -> None:
    with controller_rig(tmp_path) as rig:
        rig.controller.supervisor.watch_inputs()
        rig.limit_a = 10.0
        rig.plant.set_ev("B", None, None)
        await rig.controller.sessions.present_tag("CARD")
        rig.step()
        rig.plant.set_ev("C", None, None)
        rig.step()
        rig.limit_a = 24.0
        rig.step(1.0)  # within the hold of the session's first duty: the raise waits
        assert rig.duty == 16.67
        status = status_document(
            rig.controller, "bench-sim", "box", lambda: None, None, {}, PartFailures()
        )
        assert status["pilot"]["offered_a"] == 10.0
        assert status["pilot"]["next_offered_a"] == 24.0
        assert status["limit"]["current_a"] == 24.0
        assert state_payload(status)["offered_a"] == 10.0
        rig.step(4.0)
        status = status_document(
            rig.controller, "bench-sim", "box", lambda: None, None, {}, PartFailures()
        )
        assert status["pilot"]["offered_a"] == status["pilot"]["next_offered_a"] == 24.0
