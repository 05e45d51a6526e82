"""The bodies of the site's messages (a claim, a leave, a grid reading), declared as the
config file's keys are (`pievse.hal.declared`): each field's type, whether it may be null
or left out, and what it must be, in the words a refused message is logged with.

What is not a field here is the codec's (`site_messages`): the version, the site and the
signature are checked before a body is read, and which body a message is comes from its
topic and its `grid` and `leave` marks. A field no body declares is ignored, as it always
was (it is signed with the rest; a newer box may send it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pievse.hal.declared import (
    declared,
    is_number,
    one_of,
    required,
    rule,
    within,
)

MAX_CURRENT_A = 1000.0
MAX_BOXES = 1000
MAX_SEQ = 2**53
"""The largest integer every JSON parser reads exactly."""


def _name(value: str) -> bool:
    return 0 < len(value) <= 64


def _time(value: float) -> bool:
    """Finite and not before 1970 (NaN is neither)."""
    return 0.0 <= value < math.inf


def _amperes(value: object, low: float) -> bool:
    """A number (no bool) of low..1000 A: NaN, the infinities and integers no float holds
    are not (Python compares an integer with a float exactly, without converting it)."""
    return is_number(value) and low <= value <= MAX_CURRENT_A


def _per_phase(values: list[Any]) -> bool:
    return len(values) == 3 and all(v is None or _amperes(v, -MAX_CURRENT_A) for v in values)


def _phases(values: list[Any]) -> bool:
    return (
        1 <= len(values) <= 3
        and all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= 2 for p in values)
        and len(set(values)) == len(values)
    )


def _shares(view: dict[str, Any]) -> bool:
    return len(view) <= MAX_BOXES and all(_amperes(a, 0.0) for a in view.values())


TIME = rule("a time in wall seconds", _time)
PER_PHASE = rule(
    f"a list of 3 per-phase currents (null or -{MAX_CURRENT_A:g}..{MAX_CURRENT_A:g} A)",
    _per_phase,
    says_type=True,
)
AMPERES = within(0.0, MAX_CURRENT_A)


@dataclass(frozen=True, kw_only=True)
class SentBody:
    """What every message has: who sent it and when."""

    box: str = required(
        "the box that sent it (its topic names it too)",
        rule("a name of 1 to 64 characters", _name, says_type=True),
    )
    at: float = required("when it was sent, in wall seconds", TIME)


@dataclass(frozen=True, kw_only=True)
class LeaveBody(SentBody):
    """A box leaving the site (`"leave": true`)."""

    seq: int = required(
        "the box's message count: a later message has a higher one", within(0, MAX_SEQ)
    )


@dataclass(frozen=True, kw_only=True)
class ClaimBody(LeaveBody):
    """A box's demand, draw and view (see `Claim`)."""

    phases: list[int] = required(
        "the phases its EV charges on", rule("a list of distinct 0, 1, 2", _phases, says_type=True)
    )
    tier: int | None = declared(
        None, "its EV's tier; null: no EV waiting", one_of((0, 1), "null, 0 or 1", says_type=True)
    )
    priority: int = required(
        "the box's priority", within(-100, 100, text="an integer -100..100", says_type=True)
    )
    view: dict[str, float] | None = declared(
        None,
        "the allocation it computed for every box; null in its failsafe",
        rule(
            f"null or an object of at most {MAX_BOXES} boxes of 0..{MAX_CURRENT_A:g} A",
            _shares,
            says_type=True,
        ),
    )
    want_a: float = required("what its EV wants", AMPERES)
    draw_a: list[float | None] = required("what the box draws, per phase", PER_PHASE)
    served_since: float | None = declared(None, "when its EV's turn began", TIME)
    waiting_since: float | None = declared(None, "when its EV began waiting", TIME)
    draw_at: float | None = declared(None, "when its meter read `draw_a`", TIME)
    taken_a: float | None = declared(None, "the share it takes now", AMPERES)


@dataclass(frozen=True, kw_only=True)
class GridBody(SentBody):
    """The site's grid reading, shared by the box that reads the meter (`"grid": true`)."""

    current_a: list[float | None] = required("per phase, import positive", PER_PHASE)
    export_w: float | None = declared(None, "W exported", within(-1e6, 1e6))
