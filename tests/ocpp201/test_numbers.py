"""Numbers no OCPP 2.0.1 field can hold, on the wire from the CSMS: not finite (NaN,
Infinity, 1e400) is FormatViolation, an integer beyond 32 bits PropertyConstraintViolation;
each gets its answer, nothing is stored, and the transaction goes on."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BenchClient
from tests.rigs.csms import call_error_code
from tests.rigs.csms201 import TestCsms201


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('[2, "n1", "UnlockConnector", {"evseId": NaN, "connectorId": 1}]', "FormatViolation"),
        ('[2, "n2", "GetCompositeSchedule", {"evseId": 1, "duration": Infinity}]',
         "FormatViolation"),
        ('[2, "n3", "GetCompositeSchedule", {"evseId": 1, "duration": 1e400}]',
         "FormatViolation"),
        ('[2, "n4", "DataTransfer", {"vendorId": "x", "data": [1, -Infinity]}]',
         "FormatViolation"),
        ('[2, "i1", "GetCompositeSchedule", {"evseId": 1, "duration": 2147483648}]',
         "PropertyConstraintViolation"),
        ('[2, "i2", "ChangeAvailability", {"operationalStatus": "Inoperative",'
         ' "evse": {"id": 99999999999999999999999}}]', "PropertyConstraintViolation"),
    ],
)  # fmt: skip
async def test_a_number_no_field_can_hold_gets_its_2_0_1_call_error(
    box: BenchClient, csms: TestCsms201, frame: str, code: str
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Updated", "ChargingStateChanged")
    answer = await csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == json.loads(frame.split(",")[1])
    status = await box.status()
    assert status["contactor"] == "closed"
    assert all(e["event_type"] != "Ended" for e in csms.events())


async def test_a_reservation_id_beyond_32_bits_is_refused_and_never_stored(
    box: BenchClient, csms: TestCsms201
) -> None:
    payload = {
        "id": 2**63,
        "expiryDateTime": "2099-01-01T00:00:00Z",
        "idToken": {"idToken": "CARD-9", "type": "ISO14443"},
        "evseId": 1,
    }
    answer = await csms.send_raw(json.dumps([2, "r1", "ReserveNow", payload]))
    assert call_error_code(answer) == "PropertyConstraintViolation"
    status = await box.status()
    assert status["reservation"] is None
    assert status["connectors"]["1"]["status"] == "Available"


async def test_vendor_data_may_carry_an_integer_beyond_32_bits(
    box: BenchClient, csms: TestCsms201
) -> None:
    frame = '[2, "v1", "DataTransfer", {"vendorId": "x", "data": {"ms": 1765000000000}}]'
    answer = await csms.send_raw(frame)
    assert answer[0] == 3, answer
