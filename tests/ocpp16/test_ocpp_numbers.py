"""Numbers no OCPP field can hold, on the wire from the CSMS: a value that is not finite
(NaN, Infinity, 1e400) gets FormationViolation, an integer beyond 64 bits
PropertyConstraintViolation; each gets its answer, nothing is stored, charging goes on."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.rpc.numbers import INTEGER_BITS, number_problem
from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms, call_error_code, now_iso

PROFILE = {
    "chargingProfileId": 7,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "startSchedule": "2020-01-01T00:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": "LIMIT"}],
    },
}


def profile_frame(unique_id: str, limit: str) -> str:
    body = json.dumps({"connectorId": 0, "csChargingProfiles": PROFILE})
    body = body.replace('"LIMIT"', limit)
    return f'[2, "{unique_id}", "SetChargingProfile", {body}]'


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('[2, "n1", "UnlockConnector", {"connectorId": NaN}]', "FormationViolation"),
        ('[2, "n2", "ChangeAvailability", {"connectorId": Infinity, "type": "Inoperative"}]',
         "FormationViolation"),
        ('[2, "n3", "GetCompositeSchedule", {"connectorId": 1, "duration": -Infinity}]',
         "FormationViolation"),
        (profile_frame("n4", "NaN"), "FormationViolation"),
        (profile_frame("n5", "1e400"), "FormationViolation"),
        ('[2, "i1", "RemoteStopTransaction", {"transactionId": 99999999999999999999999}]',
         "PropertyConstraintViolation"),
        ('[2, "i2", "GetCompositeSchedule", {"connectorId": 1, "duration": 9223372036854775808}]',
         "PropertyConstraintViolation"),
    ],
)  # fmt: skip
async def test_a_number_no_field_can_hold_gets_its_call_error_and_charging_goes_on(
    box: BenchClient, csms: TestCsms, frame: str, code: str
) -> None:
    await charge_under_csms(box, csms)
    answer = await csms.send_raw(frame)
    assert call_error_code(answer) == code
    assert answer[1] == json.loads(frame.split(",")[1])
    status = await box.status()
    assert (status["contactor"], status["connectors"]["1"]["status"]) == ("closed", "Charging")


async def test_a_reservation_with_an_id_beyond_64_bits_is_refused_and_never_stored(
    box: BenchClient, csms: TestCsms
) -> None:
    payload = {
        "connectorId": 1,
        "expiryDate": now_iso(),
        "idTag": "CARD-9",
        "reservationId": 2**63,
    }
    answer = await csms.send_raw(json.dumps([2, "r1", "ReserveNow", payload]))
    assert call_error_code(answer) == "PropertyConstraintViolation"
    status = await box.status()
    assert status["reservation"] is None
    assert status["connectors"]["1"]["status"] == "Available"


SMALLEST = min(INTEGER_BITS.values())
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2 ** (SMALLEST - 1)), 2 ** (SMALLEST - 1) - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)
VERSIONS = st.sampled_from(sorted(INTEGER_BITS))


@given(VERSIONS, st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=4))
def test_every_number_a_field_can_hold_passes(version: str, payload: dict[str, Any]) -> None:
    assert number_problem(version, "Reset", payload) is None


@given(
    VERSIONS,
    st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=4),
    st.sampled_from([math.nan, math.inf, -math.inf, "too big", "too small"]),
    st.integers(0, 3),
)
def test_one_number_no_field_can_hold_is_found_wherever_it_hides(
    version: str, payload: dict[str, Any], bad: float | str, depth: int
) -> None:
    half = 2 ** (INTEGER_BITS[version] - 1)
    hidden: Any = {"too big": half, "too small": -half - 1}.get(str(bad), bad)
    for level in range(depth):
        hidden = [hidden] if level % 2 else {"x": hidden}
    code, where = number_problem(version, "Reset", {**payload, "bad": hidden}) or ("", "")
    expected = "FormatViolation" if isinstance(bad, float) else "PropertyConstraintViolation"
    assert code == expected and "Reset" in where
