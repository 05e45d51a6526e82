"""The one way hand-written inputs declare their fields (config file, board file, API
bodies): what a table is read into, and the error each wrong field gets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.hal.declared import (
    Missing,
    Refused,
    Unknown,
    converted,
    declared,
    entries,
    one_of,
    read,
    required,
    rule,
    shown,
    within,
)


@dataclass(frozen=True, kw_only=True)
class Sample:
    """A table with one of each kind of field."""

    current_a: float = required("a current", within(6, 80))
    phases: int | None = declared(None, "phases", one_of((1, 3), "1 or 3", says_type=True))
    name: str = declared("box", "a name")
    on: bool = declared(False, "a switch")


def test_a_table_is_read_into_the_declared_types() -> None:
    sample = read(Sample, {"current_a": 16, "phases": 3, "name": "garage", "on": True})
    assert sample == Sample(current_a=16.0, phases=3, name="garage", on=True)
    assert isinstance(sample.current_a, float), "an int is a number"


@pytest.mark.parametrize(
    ("table", "error", "message"),
    [
        ({"current_a": 16, "colour": "red"}, Unknown, "colour: unknown (known: current_a, "),
        ({"phases": 3}, Missing, "current_a: missing"),
        ({"current_a": "16"}, Refused, "current_a: expected a number, got '16'"),
        ({"current_a": True}, Refused, "current_a: expected a number, got True"),
        ({"current_a": 90}, Refused, "current_a: expected 6..80, got 90.0"),
        ({"current_a": 16, "phases": 2}, Refused, "phases: expected 1 or 3, got 2"),
        ({"current_a": 16, "phases": "3"}, Refused, "phases: expected 1 or 3, got '3'"),
        ({"current_a": 16, "on": 1}, Refused, "on: expected a bool, got 1"),
    ],
)
def test_each_wrong_field_gets_its_own_error(
    table: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        read(Sample, table)
    assert str(raised.value).startswith(message)


def test_the_first_error_follows_the_table_or_the_declaration() -> None:
    table = {"phases": 2, "current_a": 90}
    with pytest.raises(Refused, match=r"^phases"):
        read(Sample, table)
    with pytest.raises(Refused, match=r"^current_a"):
        read(Sample, table, in_declared_order=True)
    with pytest.raises(Unknown, match=r"^zz"):
        read(Sample, {"current_a": 90, "zz": 1}, in_declared_order=True)


def test_json_reading_options() -> None:
    assert read(Sample, {"current_a": 16, "phases": 3.0}, json_numbers=True).phases == 3
    with pytest.raises(Refused):
        read(Sample, {"current_a": 16, "phases": 3.0})
    assert read(Sample, {"current_a": 16, "phases": None}, null_is_absent=True).phases is None
    with pytest.raises(Refused, match=r"got 90$"):
        read(Sample, {"current_a": 90}, show_raw=True)


def test_a_field_nobody_declared_is_refused() -> None:
    @dataclass(frozen=True)
    class Undeclared:
        plain: int = field(default=1)

    with pytest.raises(TypeError, match=r"Undeclared\.plain is not declared"):
        entries(Undeclared)


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.booleans(), st.text()))
def test_a_bounded_number_takes_exactly_the_numbers_in_its_bounds(raw: object) -> None:
    entry = entries(Sample)[0]
    number = isinstance(raw, int | float) and not isinstance(raw, bool)
    inside = number and 6 <= raw <= 80  # type: ignore[operator]
    try:
        value = converted(entry, raw)
    except Refused:
        assert not inside
    else:
        assert inside and value == raw and isinstance(value, float) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class Lists:
    """A JSON body with a list, a map and a field whose null is a value."""

    phases: list[int] = required(
        "phases", rule("a list of 1 to 3 phases", lambda p: 1 <= len(p) <= 3, says_type=True)
    )
    view: dict[str, float] | None = declared(
        None, "shares", rule("an object of shares", lambda v: len(v) < 3, says_type=True)
    )
    limit_a: float | None = declared(None, "a limit; null: none", within(6, 80))


def test_a_list_or_a_map_is_checked_by_its_rule_and_kept_as_given() -> None:
    assert [(e.name, e.kind, e.optional) for e in entries(Lists)] == [
        ("phases", list, False),
        ("view", dict, True),
        ("limit_a", float, True),
    ]
    assert read(Lists, {"phases": [0, 2], "view": {"a": 1}}) == Lists(phases=[0, 2], view={"a": 1})
    with pytest.raises(Refused, match=r"^phases: expected a list of 1 to 3 phases, got \(0,\)$"):
        read(Lists, {"phases": (0,)})
    with pytest.raises(Refused, match=r"^view: expected an object of shares, got \[\]$"):
        read(Lists, {"phases": [0], "view": []})


def test_a_null_is_the_none_of_an_optional_field_unless_it_stands_for_absent() -> None:
    table = {"phases": [0], "limit_a": None}
    assert read(Lists, table).limit_a is None
    with pytest.raises(Refused, match=r"^phases: expected a list of 1 to 3 phases, got None$"):
        read(Lists, {"phases": None})
    assert read(Lists, {"phases": [0], "limit_a": 7}).limit_a == 7.0


def test_a_refused_value_is_shown_short_however_long_or_deep() -> None:
    deep: list[object] = []
    for _ in range(500):
        deep = [deep]
    for value in (deep, list(range(100_000)), 10**400, "x" * 10_000):
        with pytest.raises(Refused) as raised:
            read(Lists, {"phases": [0], "limit_a": value})
        assert len(str(raised.value)) < 300
    assert shown("a string") == "'a string'" and shown(90.0) == "90.0"
