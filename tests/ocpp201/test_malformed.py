"""What the 1.6 front refuses, the 2.0.1 front refuses with OCPP-J 2.0.1's codes: no crash,
the transaction and the contactor untouched."""

from __future__ import annotations

import json

import pytest
from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.rigs.csms import call_error_code
from tests.rigs.csms201 import TestCsms201


@pytest.mark.parametrize(
    ("frame", "code", "echoed_id"),
    [
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
    ],
)
async def test_malformed_frames_get_the_2_0_1_call_error(
    box: BenchClient, csms: TestCsms201, frame: str, code: str, echoed_id: str
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Updated", "ChargingStateChanged")
    answer = await csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == echoed_id
    status = await box.status()
    assert status["contactor"] == "closed"
    assert status["ocpp"]["connected"] is True
    assert all(e["event_type"] != "Ended" for e in csms.events())


async def test_more_entries_than_items_per_message_are_refused(
    box: BenchClient, csms: TestCsms201
) -> None:
    entry = {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
    frame = json.dumps([2, "big", "GetVariables", {"getVariableData": [entry] * 33}])
    assert call_error_code(await csms.send_raw(frame)) == "OccurrenceConstraintViolation"
    fits = await csms.call(call.GetVariables(get_variable_data=[entry] * 32))
    assert len(fits.get_variable_result) == 32


async def test_unlock_is_refused_during_a_transaction_and_works_after(
    box: BenchClient, csms: TestCsms201
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Started")
    busy = await csms.call(call.UnlockConnector(evse_id=1, connector_id=1))
    assert busy.status == "OngoingAuthorizedTransaction"
    assert box.wallbox.controller.session is not None, "the transaction goes on"
    await box.bench("ev", state="A")
    await csms.wait_event("Ended")
    assert (await csms.call(call.UnlockConnector(evse_id=1, connector_id=1))).status == "Unlocked"
    unknown = await csms.call(call.UnlockConnector(evse_id=2, connector_id=1))
    assert unknown.status == "UnknownConnector"
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    assert csms.protocol_errors == []
