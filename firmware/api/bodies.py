"""The JSON bodies the local API takes, declared as the config file's keys are
(`pievse.hal.declared`): each field's type, whether it may be left out, its check and the
words of its error. A body that does not fit gets 400 with
`{"error": "<field> must be <what>, got <value>"}` and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pievse.hal.declared import (
    Missing,
    Refused,
    declared,
    entries,
    one_of,
    read,
    required,
    rule,
    within,
)
from pievse.hal.interfaces import BENCH_FAULTS

T = TypeVar("T")
EV_STATES = ("A", "B", "C", "D", "E", "F")
TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


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


def read_body(cls: type[T], body: dict[str, Any], *, null_is_absent: bool = True) -> T:
    """`body` as a `cls`; BadRequest names the first field that does not fit (an unknown
    one first, in alphabetical order). `null_is_absent`: a null field is one left out."""
    allowed = sorted(entry.name for entry in entries(cls))
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")
    try:
        return read(
            cls,
            body,
            TYPE_NAMES,
            show_raw=True,
            null_is_absent=null_is_absent,
            in_declared_order=True,
            json_numbers=True,
        )
    except Missing as exc:
        check = exc.entry.check()
        expected = TYPE_NAMES[exc.entry.kind] if check is None else check.expected
        raise BadRequest(f"{exc.name} must be {expected}, got None") from None
    except Refused as exc:
        raise BadRequest(f"{exc.name} must be {exc.expected}, got {exc.value!r}") from None
