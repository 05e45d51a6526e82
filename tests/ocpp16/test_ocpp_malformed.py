"""Malformed frames: the right CALLERROR, no crash, and the contactor untouched."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms, call_error_code


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


DEEP_CALL = '[2, "deep1", "Reset", ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "]"


@pytest.mark.parametrize(
    ("frame", "code", "echoed_id"),
    [
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
    ],
)
async def test_no_frame_breaks_the_link_or_goes_unanswered(
    box: BenchClient, csms: TestCsms, frame: str, code: str, echoed_id: str
) -> None:
    """OCPP-J 1.6 4.2.3: every CALL gets an answer with its own uniqueId where it has one,
    and nothing a frame holds closes the WebSocket or touches the session."""
    await charge_under_csms(box, csms)
    answer = await csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == echoed_id
    await _session_untouched(box, csms)


async def test_binary_frames_and_stray_answers_leave_the_session_alone(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    side = await csms.connected()
    before = len(csms.raw_answers)
    await side._connection.send(b'[2, "bin1", "Reset", {"type": "Hard"}]')
    while len(csms.raw_answers) == before:
        await asyncio.sleep(0.01)
    assert csms.raw_answers[before][:3] == [4, "bin1", "FormationViolation"], "text frames only"
    for stray in ('[3, "nobody-asked", {}]', '[4, "nobody-asked", "InternalError", "", {}]'):
        await side._connection.send(stray)
    answer = await csms.send_raw(
        '[2, "after2", "GetConfiguration", {"key": ["NumberOfConnectors"]}]'
    )
    assert answer[:2] == [3, "after2"], "stray answers are not answered"
    assert not box.resets
    await _session_untouched(box, csms)


async def _session_untouched(box: BenchClient, csms: TestCsms) -> None:
    status = await box.status()
    assert status["contactor"] == "closed"
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["ocpp"]["connected"] is True
    assert len(csms.connections) == 1, "the WebSocket was never closed"
    assert "StopTransaction" not in csms.actions()
    assert len(csms.of("StartTransaction")) == 1


async def test_a_burst_of_calls_is_answered_one_answer_each(
    box: BenchClient, csms: TestCsms
) -> None:
    """OCPP-J 4.1.1 allows one CALL at a time; a CSMS that sends a hundred without waiting
    gets an answer for every one (GenericError past 16 in progress) and a working link."""
    await charge_under_csms(box, csms)
    side = await csms.connected()
    before = len(csms.raw_answers)
    ids = [f"burst{i}" for i in range(100)]
    for unique_id in ids:
        await side._connection.send(
            f'[2, "{unique_id}", "GetConfiguration", {{"key": ["NumberOfConnectors"]}}]'
        )
    while len(csms.raw_answers) < before + len(ids):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    answers = {a[1]: a for a in csms.raw_answers[before:]}
    assert sorted(answers) == sorted(ids), "one answer each, none twice"
    refused = [a for a in answers.values() if a[0] == 4]
    assert all(a[2] == "GenericError" for a in refused)
    assert len(refused) <= len(ids) - 16
    await _session_untouched(box, csms)
