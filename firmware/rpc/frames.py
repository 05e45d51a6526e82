"""OCPP-J frames in: parsing and schema validation, answered with the dialect's error codes.

The `ocpp` library's own checks answer 2.0.1 codes to 1.6 peers and swap NotImplemented and
NotSupported; OCPP-J (1.6 section 4.2.3, 2.0.1 Part 4 section 4.3) defines them so, named
here as 2.0.1 spells them (`Dialect.code` gives the 1.6 spelling):

| what is wrong                                   | CALLERROR code                |
|-------------------------------------------------|-------------------------------|
| not JSON (or a binary frame), not an array      | RpcFrameworkError             |
| no readable messageId                           | RpcFrameworkError             |
| a CALL of the wrong element count               | FormatViolation               |
| an unknown message type number                  | MessageTypeNotSupported       |
| a property the schema does not allow            | FormatViolation               |
| a required property missing                     | OccurrenceConstraintViolation |
| a property of the wrong JSON type               | TypeConstraintViolation       |
| a value outside enum, length, range or pattern  | PropertyConstraintViolation   |
| too few / too many array items                  | OccurrenceConstraintViolation |
| an action the dialect does not define           | NotImplemented                |
| an action of the dialect this box does not serve | NotSupported                 |
| nested deeper than MAX_DEPTH, over MAX_FRAME_BYTES | FormatViolation            |
| a string that is not Unicode (a lone surrogate) | FormatViolation               |
| a number that is not finite (NaN, Infinity, 1e400) | FormatViolation            |
| an integer beyond 64 bits (1.6), 32 bits (2.0.1) | PropertyConstraintViolation  |

On 1.6 a missing required property is ProtocolError ("payload for action is incomplete",
OCPP-J 1.6 4.2.3), see `Dialect.missing_field`.

A frame that cannot be parsed is still answered with the uniqueId it began with, where one
can be read, so the CSMS can match the error to its call. No frame is ever the end of the
connection: the WebSocket's own limit (`WEBSOCKET_MAX_BYTES`) is the only one that closes it,
for a message too large to read at all.
"""

from __future__ import annotations

import decimal
import json
import math
import re
from collections.abc import Set as AbstractSet
from typing import Any

from jsonschema.exceptions import best_match
from ocpp.messages import Call, CallError, CallResult, get_validator

from pievse.firmware.rpc.dialects import Dialect
from pievse.firmware.rpc.numbers import number_problem

UNIQUE_ID_MAX_LENGTH = 36
UNKNOWN_UNIQUE_ID = "-1"
MAX_DEPTH = 32
"""The deepest payloads (SetChargingProfile, NotifyReport) nest under 10 levels."""
MAX_FRAME_BYTES = 512 * 1024
"""A SendLocalList of SendLocalListMaxLength entries is about 150 KB."""
WEBSOCKET_MAX_BYTES = 2 * MAX_FRAME_BYTES
_LEADING_ID = re.compile(rf'\s*\[\s*2\s*,\s*"([^"\\]{{1,{UNIQUE_ID_MAX_LENGTH}}})"')
_CODES_BY_VALIDATOR = {
    "type": "TypeConstraintViolation",
    "additionalProperties": "FormatViolation",
    "enum": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "minLength": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
}


class FrameError(Exception):
    """What to answer in a CALLERROR; `unique_id` is None when the frame had none to echo.
    `code` is the dialect's own spelling (see `Dialect.code`)."""

    def __init__(self, code: str, description: str, unique_id: str | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.unique_id = unique_id

    def call_error(self, unique_id: str | None = None) -> CallError:
        """`unique_id`: the call's own, where the error was raised without it."""
        echoed = self.unique_id or unique_id or UNKNOWN_UNIQUE_ID
        return CallError(echoed, self.code, self.description[:255], {})


def parse_frame(raw: str | bytes, dialect: Dialect) -> Call | CallResult | CallError:
    format_violation = dialect.code("FormatViolation")
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError(
            format_violation, f"frame longer than {MAX_FRAME_BYTES} bytes", leading_id(raw)
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FrameError(
            dialect.code("RpcFrameworkError"), "frame is not valid JSON", leading_id(raw)
        ) from None
    except RecursionError:
        data = None
    if data is None or _depth_over(data, MAX_DEPTH):
        raise FrameError(
            format_violation, f"frame nested deeper than {MAX_DEPTH} levels", leading_id(raw)
        )
    if not isinstance(data, list) or len(data) < 2:
        raise FrameError(
            dialect.code("RpcFrameworkError"), "a frame is an array [type, uniqueId, ...]"
        )
    type_id, unique_id = data[0], data[1]
    if not isinstance(unique_id, str) or not 0 < len(unique_id) <= UNIQUE_ID_MAX_LENGTH:
        raise FrameError(
            dialect.code("RpcFrameworkError"),
            f"uniqueId must be a string of 1..{UNIQUE_ID_MAX_LENGTH}",
        )
    if type_id == 2:
        if len(data) != 4 or not isinstance(data[2], str):
            raise FrameError(format_violation, "a CALL is [2, id, action, {payload}]", unique_id)
        if not isinstance(data[3], dict):
            raise FrameError(format_violation, "a CALL payload is a JSON object", unique_id)
        problem = number_problem(dialect.version, data[2], data[3])
        if problem is not None:
            raise FrameError(dialect.code(problem[0]), problem[1], unique_id)
        return Call(unique_id, data[2], data[3])
    if type_id == 3 and len(data) == 3 and isinstance(data[2], dict):
        problem = number_problem(dialect.version, "answer", data[2])
        if problem is not None:  # the waiting request fails on it; nothing is stored
            return CallError(unique_id, dialect.code(problem[0]), problem[1], {})
        return CallResult(unique_id, data[2])
    if type_id == 4 and len(data) in (4, 5):
        details = data[4] if len(data) == 5 else {}
        return CallError(unique_id, str(data[2]), str(data[3]), details)
    if type_id in (3, 4):
        # A malformed answer is never answered; the waiting request fails on it.
        return CallError(unique_id, format_violation, "malformed response frame", {})
    raise FrameError(
        dialect.code("MessageTypeNotSupported"), f"unknown message type {type_id!r}", unique_id
    )


def leading_id(raw: str | bytes) -> str | None:
    """The uniqueId at the start of a CALL that could not be parsed whole, if it has one
    (an answer that cannot be parsed is never answered)."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    found = _LEADING_ID.match(text[: UNIQUE_ID_MAX_LENGTH + 16])
    return None if found is None else found.group(1)


def _depth_over(data: Any, limit: int) -> bool:
    """Iterative, so a deep frame cannot exhaust the stack of whoever checks it."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _unicode(value: Any) -> bool:
    """False where a string holds a lone surrogate (an escaped \\ud800 is valid JSON
    syntax but no Unicode text: it cannot be logged, stored or sent back). A walk over the
    strings, not one encoding of the whole payload: that single call on a frame of hundreds
    of kilobytes holds the GIL for milliseconds, and the safety core's thread waits it out."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def as_decimals(value: Any) -> Any:
    """`value` with every float as the Decimal of its JSON text: what re-reading its JSON
    with `parse_float=Decimal` gives (JSON writes a float as its shortest repr), built by a
    walk that the interpreter can interrupt, where the dump and re-parse of a large frame are
    two long C calls that hold the GIL. Depth is bounded (MAX_DEPTH) before this runs."""
    if isinstance(value, float):
        return decimal.Decimal(repr(value)) if math.isfinite(value) else value
    if isinstance(value, dict):
        return {key: as_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_decimals(item) for item in value]
    return value


def check_action(call: Call, served: AbstractSet[str], dialect: Dialect) -> None:
    if call.action in served:
        return
    if call.action in dialect.known_actions:
        raise FrameError("NotSupported", f"{call.action} is not supported", call.unique_id)
    raise FrameError("NotImplemented", f"unknown action {call.action!a}", call.unique_id)


def check_text(call: Call, dialect: Dialect) -> None:
    if not _unicode(call.payload):
        raise FrameError(
            dialect.code("FormatViolation"),
            "a string is not valid Unicode (lone surrogate)",
            call.unique_id,
        )


def validate(message: Call | CallResult, dialect: Dialect) -> None:
    """Raises FrameError with the dialect's code for the first (most relevant) schema
    violation."""
    is_call = isinstance(message, Call)
    decimals = message.action in (dialect.decimal_calls if is_call else dialect.decimal_results)
    validator = get_validator(
        message.message_type_id,
        message.action,
        dialect.version,
        parse_float=decimal.Decimal if decimals else float,
    )
    payload: Any = message.payload
    if decimals:
        payload = as_decimals(payload)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    if error.validator == "required":
        code = dialect.code(dialect.missing_field)
    else:
        code = dialect.code(_CODES_BY_VALIDATOR.get(str(error.validator), "FormatViolation"))
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    raise FrameError(code, f"{message.action} {where}: {error.message}", message.unique_id)


SECRET_KEYS = frozenset({"authorizationkey", "basicauthpassword"})
"""Case-folded: key and variable names are case-insensitive, `authorizationKEY` is the same
secret. 1.6 names it AuthorizationKey, 2.0.1 SecurityCtrlr's BasicAuthPassword."""
HIDDEN = "(hidden)"


def redacted(raw: str | bytes) -> str:
    """A frame fit for a log: the value a CSMS sets a secret to hidden (1.6
    ChangeConfiguration, 2.0.1 SetVariables, and the APN password of SetNetworkProfile)."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not (isinstance(frame, list) and len(frame) == 4 and isinstance(frame[3], dict)):
        return text
    action, payload = frame[2], frame[3]
    if action == "ChangeConfiguration" and str(payload.get("key")).casefold() in SECRET_KEYS:
        return json.dumps([*frame[:3], {**payload, "value": HIDDEN}])
    if action == "SetVariables" and isinstance(payload.get("setVariableData"), list):
        entries = [_hidden_variable(entry) for entry in payload["setVariableData"]]
        return json.dumps([*frame[:3], {**payload, "setVariableData": entries}])
    if action == "SetNetworkProfile" and "apnPassword" in json.dumps(payload):
        return json.dumps([*frame[:3], {**payload, "connectionData": HIDDEN}])
    return text


def _hidden_variable(entry: Any) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("variable"), dict):
        return entry
    if str(entry["variable"].get("name")).casefold() in SECRET_KEYS:
        return {**entry, "attributeValue": HIDDEN}
    return entry
