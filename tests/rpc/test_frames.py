"""OCPP-J frames as the box reads them, on both dialects: every hostile frame is a
FrameError with the dialect's own code (and the uniqueId it began with, where one can be
read), never another exception; secrets never reach a log line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.messages import Call, CallError, CallResult

from pievse.firmware.rpc.dialects import DIALECTS, OCPP16, OCPP201, Dialect
from pievse.firmware.rpc.frames import (
    HIDDEN,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    FrameError,
    check_action,
    check_text,
    leading_id,
    parse_frame,
    redacted,
    validate,
)

BOTH = pytest.mark.parametrize("dialect", [OCPP16, OCPP201], ids=["1.6", "2.0.1"])


def _error(raw: str | bytes, dialect: Dialect) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, dialect)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "code_201", "code_16", "echoed"),
    [
        ("not json", "RpcFrameworkError", "FormationViolation", None),
        ('[2, "a1", "Heartbeat", {}', "RpcFrameworkError", "FormationViolation", "a1"),
        ('{"a": 1}', "RpcFrameworkError", "FormationViolation", None),
        ("[2]", "RpcFrameworkError", "FormationViolation", None),
        ('[2, 7, "Heartbeat", {}]', "RpcFrameworkError", "FormationViolation", None),
        (
            '[2, "' + "x" * 37 + '", "Heartbeat", {}]',
            "RpcFrameworkError",
            "FormationViolation",
            None,
        ),
        ('[2, "a2", "Heartbeat"]', "FormatViolation", "FormationViolation", "a2"),
        ('[2, "a3", "Heartbeat", []]', "FormatViolation", "FormationViolation", "a3"),
        ('[9, "a4", "Heartbeat", {}]', "MessageTypeNotSupported", "FormationViolation", "a4"),
        ('[2, "a5", "Heartbeat", {"x": NaN}]', "FormatViolation", "FormationViolation", "a5"),
    ],
)
@BOTH
def test_a_malformed_frame_is_answered_in_the_dialects_words(
    raw: str, code_201: str, code_16: str, echoed: str | None, dialect: Dialect
) -> None:
    error = _error(raw, dialect)
    assert error.code == (code_16 if dialect is OCPP16 else code_201)
    assert error.unique_id == echoed
    answer = error.call_error()
    assert answer.unique_id == (echoed or "-1") and len(answer.error_description) <= 255


@BOTH
def test_too_deep_and_too_long_are_refused_before_any_other_work(dialect: Dialect) -> None:
    deep = (
        '[2, "d1", "DataTransfer", '
        + '{"a": ' * (MAX_DEPTH + 1)
        + "1"
        + "}" * (MAX_DEPTH + 1)
        + "]"
    )
    assert "deeper" in _error(deep, dialect).description
    assert _error(deep, dialect).unique_id == "d1"
    very_deep = "[" * 100_000 + "]" * 100_000  # past the JSON parser's own recursion
    assert "deeper" in _error(very_deep, dialect).description
    long = '[2, "l1", "DataTransfer", {"data": "' + "x" * MAX_FRAME_BYTES + '"}]'
    error = _error(long, dialect)
    assert "longer" in error.description and error.unique_id == "l1"


@BOTH
def test_a_number_beyond_the_dialects_integers_is_a_property_violation(dialect: Dialect) -> None:
    huge = 2**64 if dialect is OCPP16 else 2**32
    error = _error(f'[2, "n1", "ChangeAvailability", {{"connectorId": {huge}}}]', dialect)
    assert error.code == "PropertyConstraintViolation" and error.unique_id == "n1"


@BOTH
def test_answers_are_never_answered_only_failed(dialect: Dialect) -> None:
    assert isinstance(parse_frame('[3, "r1", {"status": "Accepted"}]', dialect), CallResult)
    bad = parse_frame('[3, "r2", "not an object"]', dialect)
    assert isinstance(bad, CallError) and bad.unique_id == "r2"
    error = parse_frame('[4, "r3", "InternalError", "boom"]', dialect)
    assert isinstance(error, CallError) and error.error_code == "InternalError"


@BOTH
def test_actions_are_told_apart_as_unknown_or_not_served(dialect: Dialect) -> None:
    known = next(iter(sorted(dialect.known_actions)))
    with pytest.raises(FrameError) as not_served:
        check_action(Call("c1", known, {}), frozenset(), dialect)
    assert not_served.value.code == "NotSupported"
    with pytest.raises(FrameError) as unknown:
        check_action(Call("c2", "MakeCoffee", {}), frozenset(), dialect)
    assert unknown.value.code == "NotImplemented"
    check_action(Call("c3", known, {}), frozenset({known}), dialect)


@BOTH
def test_a_lone_surrogate_is_no_text(dialect: Dialect) -> None:
    call = parse_frame('[2, "s1", "DataTransfer", {"vendorId": "\\ud800"}]', dialect)
    assert isinstance(call, Call)
    with pytest.raises(FrameError) as caught:
        check_text(call, dialect)
    assert caught.value.code == dialect.code("FormatViolation")


@pytest.mark.parametrize(
    ("dialect", "action", "payload", "code"),
    [
        (OCPP16, "ChangeAvailability", {"connectorId": 0}, "ProtocolError"),
        (OCPP201, "ChangeAvailability", {}, "OccurrenceConstraintViolation"),
        (
            OCPP16,
            "ChangeAvailability",
            {"connectorId": "0", "type": "Operative"},
            "TypeConstraintViolation",
        ),
        (
            OCPP16,
            "ChangeAvailability",
            {"connectorId": 0, "type": "Sideways"},
            "PropertyConstraintViolation",
        ),
        (
            OCPP16,
            "ChangeAvailability",
            {"connectorId": 0, "type": "Operative", "x": 1},
            "FormationViolation",
        ),
        (
            OCPP201,
            "ChangeAvailability",
            {"operationalStatus": "Operative", "x": 1},
            "FormatViolation",
        ),
    ],
)
def test_schema_violations_name_the_dialects_code_and_the_place(
    dialect: Dialect, action: str, payload: dict[str, object], code: str
) -> None:
    with pytest.raises(FrameError) as caught:
        validate(Call("v1", action, payload), dialect)
    assert caught.value.code == code
    assert caught.value.description.startswith(action) and caught.value.unique_id == "v1"


def test_a_charging_rate_is_checked_as_a_decimal_not_a_binary_float() -> None:
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.3}],
            },
        },
    }
    validate(Call("p1", "SetChargingProfile", profile), OCPP16)  # 16.3 is a multiple of 0.1


@settings(max_examples=300, deadline=None)
@given(
    raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)),
    version=st.sampled_from(sorted(DIALECTS)),
)
def test_no_input_raises_anything_but_a_frame_error(raw: str | bytes, version: str) -> None:
    dialect = DIALECTS[version]
    try:
        parse_frame(raw, dialect)
    except FrameError as error:
        assert error.code
    redacted(raw)
    leading_id(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    frame=st.lists(json_values, max_size=5),
    version=st.sampled_from(sorted(DIALECTS)),
)
def test_any_json_array_parses_or_is_refused_with_a_code(frame: list[object], version: str) -> None:
    dialect = DIALECTS[version]
    try:
        message = parse_frame(json.dumps(frame), dialect)
    except FrameError:
        return
    if isinstance(message, Call) and message.action in dialect.known_actions:
        try:
            validate(message, dialect)
        except FrameError as error:
            assert error.code in {
                dialect.code(c)
                for c in (
                    "FormatViolation",
                    "TypeConstraintViolation",
                    "PropertyConstraintViolation",
                    "OccurrenceConstraintViolation",
                    dialect.missing_field,
                )
            }


@pytest.mark.parametrize(
    "frame",
    [
        [2, "k1", "ChangeConfiguration", {"key": "AuthorizationKEY", "value": "s3cret-s3cret"}],
        [
            2,
            "k2",
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attributeValue": "s3cret-s3cret",
                    }
                ]
            },
        ],
        [
            2,
            "k3",
            "SetNetworkProfile",
            {"configurationSlot": 1, "connectionData": {"apn": {"apnPassword": "s3cret-s3cret"}}},
        ],
    ],
)
def test_a_secret_a_csms_sets_never_reaches_the_log(frame: list[object]) -> None:
    shown = redacted(json.dumps(frame))
    assert "s3cret-s3cret" not in shown and HIDDEN in shown
    assert json.loads(shown)[:3] == frame[:3]


def test_a_leading_id_is_read_only_from_the_start_of_a_call() -> None:
    assert leading_id('[2, "abc", "Heart') == "abc"
    assert leading_id(b'  [ 2 , "id-1"') == "id-1"
    assert leading_id('[3, "abc", {') is None
    assert leading_id('[2, "' + "x" * 37 + '"') is None
