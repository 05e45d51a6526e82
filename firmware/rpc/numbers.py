"""Numbers no OCPP field can hold, found before a frame reaches the schemas or a handler.

Python's JSON reader takes NaN and Infinity, which JSON does not have, and turns 1e400 into
infinity: no field may carry them (the schema checks would raise on them rather than say
what is wrong). OCPP 2.0.1 Part 2 defines its integers as 32-bit signed; OCPP 1.6 gives
its integers no width, so there the bound is what the box can store (SQLite: 64-bit
signed), and a 1.6 value within it that makes no sense (a schedule of 10^12 s) is the
handler's to refuse in its answer. 2.0.1 DataTransfer's `data` is any JSON the vendor
likes: its integers may be larger.
"""

from __future__ import annotations

import math
from typing import Any

INTEGER_BITS = {"1.6": 64, "2.0.1": 32}
"""By dialect version: the widest signed integer a field may carry."""
FREE_FORM = frozenset({("DataTransfer", "data")})
"""(action, top-level field) whose integers are the vendor's business."""


def number_problem(version: str, action: str, payload: dict[str, Any]) -> tuple[str, str] | None:
    """(the CALLERROR code as 2.0.1 names it, what is wrong) for the first number in
    `payload` that no field of `version` can hold; None when there is none. Iterative: the
    frame's depth is bounded before this runs, its width is not."""
    bits = INTEGER_BITS[version]
    stack = [(value, key, (action, key) in FREE_FORM) for key, value in payload.items()]
    while stack:
        value, path, free = stack.pop()
        if isinstance(value, dict):
            stack.extend((child, f"{path}/{key}", free) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, f"{path}/{i}", free) for i, child in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return "FormatViolation", f"{action} {path}: {value} is not a finite number"
        elif not free and _wider(value, bits):
            return "PropertyConstraintViolation", f"{action} {path}: beyond {bits}-bit integers"
    return None


def _wider(value: Any, bits: int) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
