"""Numbers no OCPP field can hold, found before a frame reaches the schemas or a handler.

Python's JSON reader takes NaN and Infinity, which JSON does not have, and turns 1e400 into
infinity: no field may carry them (the schema checks would raise on them rather than say
what is wrong). Integers are 32-bit signed, as OCPP 2.0.1 Part 2 defines its integer type;
no OCPP 1.6 field needs more, and SQLite stores at most 64 bits. 2.0.1 DataTransfer's `data`
is any JSON the vendor likes: its integers may be larger.
"""

from __future__ import annotations

import math
from typing import Any

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
FREE_FORM = frozenset({("DataTransfer", "data")})
"""(action, top-level field) whose integers are the vendor's business."""


def number_problem(action: str, payload: dict[str, Any]) -> tuple[str, str] | None:
    """(the CALLERROR code as 2.0.1 names it, what is wrong) for the first number in
    `payload` that no field can hold; None when there is none. Iterative: the frame's depth
    is bounded before this runs, its width is not."""
    stack = [(value, key, (action, key) in FREE_FORM) for key, value in payload.items()]
    while stack:
        value, path, free = stack.pop()
        if isinstance(value, dict):
            stack.extend((child, f"{path}/{key}", free) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, f"{path}/{i}", free) for i, child in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return "FormatViolation", f"{action} {path}: {value} is not a finite number"
        elif not free and _beyond_32_bits(value):
            return "PropertyConstraintViolation", f"{action} {path}: an integer beyond 32 bits"
    return None


def _beyond_32_bits(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX
    )
