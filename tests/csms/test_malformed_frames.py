"""Malformed frames against either front: each gets its version's CALLERROR code with its
own uniqueId where it has one (OCPP-J 1.6 4.2.3, 2.0.1 4.2.3), and nothing a frame holds
crashes the box, closes the WebSocket or touches the charging session."""

from __future__ import annotations

import pytest

from tests.conftest import BenchClient
from tests.csms.conftest import Front
from tests.rigs.csms import call_error_code

DEEP_CALL = '[2, "deep1", "Reset", ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "]"
FRAMES_1_6 = [
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
    ("[" * 1000 + "]" * 1000, "FormationViolation", "-1"),
    (DEEP_CALL, "FormationViolation", "deep1"),
    (
        '[2, "deep2", "Reset", {"type": ' + "[" * 40 + "]" * 40 + "}]",
        "FormationViolation",
        "deep2",
    ),
    (
        '[2, "big1", "DataTransfer", {"vendorId": "x", "data": "' + "x" * 600_000 + '"}]',
        "FormationViolation",
        "big1",
    ),
    ('[2, "cut1", "Reset", {"type": "So', "FormationViolation", "cut1"),
    (
        '[2, "d1", "GetDiagnostics", {"location": "ftp://h/", "startTime": "1700000000"}]',
        "PropertyConstraintViolation",
        "d1",
    ),
    (
        '[2, "d2", "GetDiagnostics", {"location": "ftp://h/", "startTime": "2024-02-30"}]',
        "PropertyConstraintViolation",
        "d2",
    ),
    (
        '[2, "d3", "GetDiagnostics", {"location": "ftp://h/", "stopTime": ""}]',
        "PropertyConstraintViolation",
        "d3",
    ),
    ('[2, "u1", "FlyToTheMoon\\ud800", {}]', "NotImplemented", "u1"),
    (
        '[2, "u2", "RemoteStartTransaction", {"idTag": "CARD\\udc00"}]',
        "FormationViolation",
        "u2",
    ),
    ('[2, "u3", "DataTransfer", {"vendorId": "x\\ud800y"}]', "FormationViolation", "u3"),
]
FRAMES_2_0_1 = [
    ("this is not json", "RpcFrameworkError", "-1"),
    ('[2, "m0", "Reset", {"type": "Imm', "RpcFrameworkError", "m0"),
    ('{"not": "an array"}', "RpcFrameworkError", "-1"),
    ('[2, "m1", "Reset"]', "FormatViolation", "m1"),
    ('[7, "m3", "Reset", {"type": "Immediate"}]', "MessageTypeNotSupported", "m3"),
    ('[2, "m4", "Reset", {}]', "OccurrenceConstraintViolation", "m4"),
    (
        '[2, "m4b", "RequestStartTransaction", {"remoteStartId": 1, "idToken": {"type": '
        '"ISO14443"}}]',
        "OccurrenceConstraintViolation",
        "m4b",
    ),
    ('[2, "m5", "Reset", {"type": 5}]', "TypeConstraintViolation", "m5"),
    ('[2, "m6", "Reset", {"type": "Gentle"}]', "PropertyConstraintViolation", "m6"),
    ('[2, "m7", "Reset", {"type": "Immediate", "extra": 1}]', "FormatViolation", "m7"),
    (
        '[2, "m8", "GetVariables", {"getVariableData": []}]',
        "OccurrenceConstraintViolation",
        "m8",
    ),
    ('[2, "m9", "FlyToTheMoon", {}]', "NotImplemented", "m9"),
    ('[2, "m10", "StartTransaction", {}]', "NotImplemented", "m10"),
    ('[2, "m11", "Heartbeat", {}]', "NotSupported", "m11"),
]
CASES = [
    pytest.param(version, frame, code, echoed, id=f"{version}-{n}-{echoed}")
    for version, frames in (("1.6", FRAMES_1_6), ("2.0.1", FRAMES_2_0_1))
    for n, (frame, code, echoed) in enumerate(frames)
]


@pytest.mark.parametrize(("front", "frame", "code", "echoed_id"), CASES, indirect=["front"])
async def test_a_malformed_frame_gets_its_versions_call_error_and_the_session_goes_on(
    box: BenchClient, front: Front, frame: str, code: str, echoed_id: str
) -> None:
    await front.charge(box)
    answer = await front.csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == echoed_id
    status = await box.status()
    assert status["contactor"] == "closed"
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["ocpp"]["connected"] is True
    assert len(front.csms.connections) == 1, "the WebSocket was never closed"
    assert front.transaction().count("start") == 1
    assert "end" not in front.transaction()
