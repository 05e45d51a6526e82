"""The JSON bodies the local API takes, declared as the config file's keys are
(`pievse.hal.declared`): each field's type, whether it may be left out, its check and the
words of its error. A body that does not fit gets 400 with
`{"error": "<field> must be <what>, got <value>"}` (the mode and the grid reading:
`"<field>: expected <what>, got <value>"`, see EXPECTED) and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pievse.firmware.site.charging_mode import MAX_SETPOINT_A, MIN_SETPOINT_A, MODES
from pievse.hal.declared import (
    PLAIN_TYPE_NAMES,
    Missing,
    Refused,
    as_float,
    declared,
    entries,
    numbers_or_null,
    one_of,
    read,
    required,
    rule,
    shown,
    within,
)
from pievse.hal.interfaces import BENCH_FAULTS

T = TypeVar("T")
EV_STATES = ("A", "B", "C", "D", "E", "F")
MUST_BE = "{name} must be {expected}, got {value}"
"""The words of a refused body (the bench's, availability's)."""
EXPECTED = "{name}: expected {expected}, got {value}"
"""The words of a refused mode or grid reading: the charging mode's and the grid
readings' own, which MQTT's commands and readings get too."""


class BadRequest(ValueError):
    pass


def _listed(values: tuple[str, ...]) -> str:
    return f"one of {', '.join(values)}"


def _id_tag(tag: str) -> bool:
    return 0 < len(tag) <= 20 and tag.isascii() and tag.isprintable()


@dataclass(frozen=True, kw_only=True)
class EvBody:
    """`POST /api/bench/ev`: the simulated EV's pilot state and what it draws."""

    state: str = required(
        "the pilot state the EV's resistors make",
        one_of(EV_STATES, _listed(EV_STATES), says_type=True),
    )
    max_current_a: float | None = declared(
        None, "the most the EV draws", within(0, 80, text="a number from 0 to 80", says_type=True)
    )
    phases: int | None = declared(
        None, "the phases the EV charges on", one_of((1, 3), "1 or 3", says_type=True)
    )
    ignores_phase_switch: bool | None = declared(
        None, "the EV keeps the phases it found first in a plug-in"
    )


@dataclass(frozen=True, kw_only=True)
class TagBody:
    """`POST /api/bench/tag`: a card presented to the reader."""

    id_tag: str = required(
        "the card's id", rule("1 to 20 printable ASCII characters", _id_tag, says_type=True)
    )


@dataclass(frozen=True, kw_only=True)
class FaultBody:
    """`POST /api/bench/fault`: a fault of the simulated plant, on or off."""

    fault: str = required(
        "which fault", one_of(BENCH_FAULTS, _listed(tuple(BENCH_FAULTS)), says_type=True)
    )
    active: bool = required("on or off")


@dataclass(frozen=True, kw_only=True)
class TemperatureBody:
    """`POST /api/bench/temperature`: the enclosure's temperature (derating)."""

    celsius: float | None = declared(
        None, "°C", within(-40, 150, text="a number from -40 to 150", says_type=True)
    )


@dataclass(frozen=True, kw_only=True)
class AvailabilityBody:
    """`PUT /api/availability`: the box (connector 0) or its connector in or out of service."""

    operative: bool = required("in service or not")
    connector_id: int = declared(
        0, "0: the box, 1: its connector", one_of((0, 1), "0 or 1", says_type=True)
    )


@dataclass(frozen=True, kw_only=True)
class ModeBody:
    """`PUT /api/mode`: read over what the box has now, so a field left out keeps its value
    and a null setpoint lifts it (MQTT's commands check the same, `mqtt/commands.py`)."""

    mode: str = required(
        "the charging mode", one_of(MODES, f"one of {', '.join(MODES)}", says_type=True)
    )
    setpoint_a: float | None = required(
        "the local setpoint in A; null: none",
        within(MIN_SETPOINT_A, MAX_SETPOINT_A, text="6..80 A or null"),
    )


@dataclass(frozen=True, kw_only=True)
class GridBody:
    """`PUT /api/site/grid`: a reading of the grid connection from the site's own energy
    system."""

    current_a: list[float | None] = required(
        "per phase in A, import positive; null for a phase it does not measure",
        # how many, and of what range, is `GridReadings.feed`'s check, which every reading
        # passes (from MQTT and from a site box too) and words as always
        rule("a list of 3 numbers (or null) in A", numbers_or_null, says_type=True),
    )
    export_w: float | None = declared(
        None,
        "W exported to the grid",
        within(-1e6, 1e6, text="a number from -1000000.0 to 1000000.0", says_type=True),
    )

    def currents(self) -> list[float | None]:
        """As floats: an integer no float holds is beyond every range (feed refuses it)."""
        return [None if c is None else as_float(c) for c in self.current_a]


def read_body(
    cls: type[T], body: dict[str, Any], *, null_is_absent: bool = True, words: str = MUST_BE
) -> T:
    """`body` as a `cls`; BadRequest names the first field that does not fit (an unknown
    one first, in alphabetical order) in `words` (MUST_BE or EXPECTED). `null_is_absent`:
    a null field is one left out (else the None of a `T | None` field)."""
    allowed = sorted(entry.name for entry in entries(cls))
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")
    try:
        return read(
            cls,
            body,
            PLAIN_TYPE_NAMES,
            show_raw=True,
            null_is_absent=null_is_absent,
            in_declared_order=True,
            json_numbers=True,
        )
    except Missing as exc:
        check = exc.entry.check()
        expected = PLAIN_TYPE_NAMES[exc.entry.kind] if check is None else check.expected
        raise BadRequest(words.format(name=exc.name, expected=expected, value=None)) from None
    except Refused as exc:
        message = words.format(name=exc.name, expected=exc.expected, value=shown(exc.value))
        raise BadRequest(message) from None
