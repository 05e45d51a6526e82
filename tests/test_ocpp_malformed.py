"""Malformed frames: the right CALLERROR, no crash, and the contactor untouched."""

from __future__ import annotations

import pytest

from tests.conftest import BenchClient, charge_under_csms
from tests.csms import TestCsms, call_error_code


@pytest.mark.parametrize(
    ("frame", "code", "echoed_id"),
    [
        ("this is not json", "FormationViolation", "-1"),
        ('{"not": "an array"}', "FormationViolation", "-1"),
        ('[2, "m1", "Reset"]', "FormationViolation", "m1"),
        ('[2, "m2", "Reset", ["Hard"]]', "FormationViolation", "m2"),
        ('[7, "m3", "Reset", {"type": "Hard"}]', "FormationViolation", "m3"),
        ('[2, "m4", "Reset", {}]', "ProtocolError", "m4"),
        ('[2, "m5", "Reset", {"type": 5}]', "TypeConstraintViolation", "m5"),
        ('[2, "m6", "Reset", {"type": "Gentle"}]', "PropertyConstraintViolation", "m6"),
        ('[2, "m7", "Reset", {"type": "Hard", "extra": 1}]', "FormationViolation", "m7"),
        (
            '[2, "m8", "RemoteStartTransaction", {"idTag": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}]',
            "PropertyConstraintViolation",
            "m8",
        ),
        ('[2, "m9", "UnlockConnector", {"connectorId": "one"}]', "TypeConstraintViolation", "m9"),
        ('[2, "m10", "FlyToTheMoon", {}]', "NotImplemented", "m10"),
        ('[2, "m11", "Heartbeat", {}]', "NotSupported", "m11"),
        ('[2, "m12", "GetConfiguration", {"key": [1]}]', "TypeConstraintViolation", "m12"),
    ],
)
async def test_malformed_frames_get_the_right_call_error(
    box: BenchClient, csms: TestCsms, frame: str, code: str, echoed_id: str
) -> None:
    await charge_under_csms(box, csms)
    answer = await csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == echoed_id
    status = await box.status()
    assert status["contactor"] == "closed"
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["ocpp"]["connected"] is True
    assert "StopTransaction" not in csms.actions()


async def test_a_flood_of_garbage_leaves_the_link_working(box: BenchClient, csms: TestCsms) -> None:
    for i in range(50):
        await csms.send_raw(f'[2, "g{i}", "Reset", {{"type": {i}}}]')
    answer = await csms.send_raw('[2, "ok", "GetConfiguration", {"key": ["NumberOfConnectors"]}]')
    assert answer[0] == 3
    assert answer[2]["configurationKey"][0]["value"] == "1"
