"""OCPP-J 1.6 frames in: parsing and schema validation with the error codes of the RPC spec.

The `ocpp` library's own checks answer 2.0.1 codes (FormatViolation) and swap NotImplemented
and NotSupported; OCPP-J 1.6 section 4.2.3 defines them so:

| what is wrong                                   | CALLERROR code               |
|-------------------------------------------------|------------------------------|
| not JSON, not an array, wrong element count     | FormationViolation           |
| a property the schema does not allow            | FormationViolation           |
| a required property missing                     | ProtocolError                |
| a property of the wrong JSON type               | TypeConstraintViolation      |
| a value outside enum, length, range or pattern  | PropertyConstraintViolation  |
| too few / too many array items                  | OccurenceConstraintViolation |
| an action the receiver does not know            | NotImplemented               |
| a known 1.6 action this product does not serve  | NotSupported                 |
"""

from __future__ import annotations

import decimal
import json
from typing import Any

from jsonschema.exceptions import best_match
from ocpp.messages import Call, CallError, CallResult, get_validator
from ocpp.v16.enums import Action

UNIQUE_ID_MAX_LENGTH = 36
UNKNOWN_UNIQUE_ID = "-1"
KNOWN_ACTIONS = frozenset(action.value for action in Action)
# Schemas with multipleOf 0.1 must be checked on decimals, not binary floats.
DECIMAL_CALLS = frozenset({"SetChargingProfile", "RemoteStartTransaction"})
DECIMAL_RESULTS = frozenset({"GetCompositeSchedule"})
_CODES_BY_VALIDATOR = {
    "type": "TypeConstraintViolation",
    "required": "ProtocolError",
    "additionalProperties": "FormationViolation",
    "enum": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "minLength": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
}


class FrameError(Exception):
    """What to answer in a CALLERROR; `unique_id` is None when the frame had none to echo."""

    def __init__(self, code: str, description: str, unique_id: str | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.unique_id = unique_id

    def call_error(self) -> CallError:
        return CallError(self.unique_id or UNKNOWN_UNIQUE_ID, self.code, self.description[:255], {})


def parse_frame(raw: str | bytes) -> Call | CallResult | CallError:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("FormationViolation", "frame is not valid JSON") from None
    if not isinstance(data, list) or len(data) < 2:
        raise FrameError("FormationViolation", "a frame is an array [type, uniqueId, ...]")
    type_id, unique_id = data[0], data[1]
    if not isinstance(unique_id, str) or not 0 < len(unique_id) <= UNIQUE_ID_MAX_LENGTH:
        raise FrameError(
            "FormationViolation", f"uniqueId must be a string of 1..{UNIQUE_ID_MAX_LENGTH}"
        )
    if type_id == 2:
        if len(data) != 4 or not isinstance(data[2], str):
            raise FrameError(
                "FormationViolation", "a CALL is [2, id, action, {payload}]", unique_id
            )
        if not isinstance(data[3], dict):
            raise FrameError("FormationViolation", "a CALL payload is a JSON object", unique_id)
        return Call(unique_id, data[2], data[3])
    if type_id == 3 and len(data) == 3 and isinstance(data[2], dict):
        return CallResult(unique_id, data[2])
    if type_id == 4 and len(data) in (4, 5):
        details = data[4] if len(data) == 5 else {}
        return CallError(unique_id, str(data[2]), str(data[3]), details)
    if type_id in (3, 4):
        # A malformed answer is never answered; the waiting request fails on it.
        return CallError(unique_id, "FormationViolation", "malformed response frame", {})
    raise FrameError("FormationViolation", f"unknown message type {type_id!r}", unique_id)


def check_action(call: Call, served: set[str]) -> None:
    if call.action in served:
        return
    if call.action in KNOWN_ACTIONS:
        raise FrameError("NotSupported", f"{call.action} is not supported", call.unique_id)
    raise FrameError("NotImplemented", f"unknown action {call.action!r}", call.unique_id)


def validate(message: Call | CallResult) -> None:
    """Raises FrameError with the 1.6 code for the first (most relevant) schema violation."""
    is_call = isinstance(message, Call)
    decimals = message.action in (DECIMAL_CALLS if is_call else DECIMAL_RESULTS)
    validator = get_validator(
        message.message_type_id,
        message.action,
        "1.6",
        parse_float=decimal.Decimal if decimals else float,
    )
    payload: Any = message.payload
    if decimals:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    code = _CODES_BY_VALIDATOR.get(str(error.validator), "FormationViolation")
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    raise FrameError(code, f"{message.action} {where}: {error.message}", message.unique_id)


SECRET_KEYS = frozenset({"AuthorizationKey"})


def redacted(raw: str | bytes) -> str:
    """A frame fit for a log: the value of a ChangeConfiguration of a secret key hidden."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    try:
        frame = json.loads(text)
    except ValueError:
        return text
    if (
        isinstance(frame, list)
        and len(frame) == 4
        and frame[2] == "ChangeConfiguration"
        and isinstance(frame[3], dict)
        and frame[3].get("key") in SECRET_KEYS
    ):
        return json.dumps([*frame[:3], {**frame[3], "value": "(hidden)"}])
    return text
