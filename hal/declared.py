"""Declared values: each field of a hand-written input (the config file, a board file, a
request body) declared once, as a dataclass field with its type, default, check, secrecy
and description, and read from a raw (TOML or JSON) value by one checker.

It sits at the bottom of the package graph, stdlib only, so that the config file, the
board loader and the local API can all declare their fields the same way.

Why stdlib dataclasses with field metadata rather than a schema library: a Pi 3 starts
the box, and an error must name the file, the key and what is expected in the words the
tests pin. Measured on the development machine (Python 3.11, `python -X importtime -c
"import pievse.firmware.config"` and `-c "import msgspec"`, RSS from /proc/self/status
after the import): msgspec 0.23 alone costs about 3 ms and 1.4 MB RSS on top of the
interpreter; this module with the whole config declaration about 2 ms and 0.4 MB (it
uses only `dataclasses`, `enum` and `typing`, which the box imports anyway). msgspec's
own messages ("Expected `int` >= 10 - at `$.control.tick_ms`") would still need the
checks below to keep the box's wording, so it would add a compiled dependency and save no
code.
"""

from __future__ import annotations

import enum
import sys
import typing
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, dataclass, field, fields
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    """What a value must be beyond its type: `expected` completes "expected ..." in an
    error message, `holds` tells whether a value (already of the field's type) is one."""

    expected: str
    holds: Callable[[Any], bool]


def within(low: float, high: float, *, also: float | None = None, text: str = "") -> Check:
    """low..high (both included); `also` one more value outside (0 for "off")."""

    def holds(value: float) -> bool:
        return low <= value <= high or (also is not None and value == also)

    shown = f"{low}..{high}" if also is None else f"{also} or {low}..{high}"
    return Check(text or shown, holds)


def rule(expected: str, holds: Callable[[Any], bool]) -> Check:
    return Check(expected, holds)


def at_most(n: int) -> Check:
    return Check(f"at most {n} characters", lambda value: len(value) <= n)


def empty_or(expected: str, holds: Callable[[str], bool]) -> Check:
    """An optional text: empty, or what `holds` accepts."""
    return Check(f"empty, or {expected}", lambda value: value == "" or holds(value))


def one_of(values: Iterable[str], text: str = "") -> Check:
    allowed = tuple(values)
    quoted = [f'"{v}"' for v in allowed]
    shown = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return Check(text or shown, lambda value: value in allowed)


@dataclass(frozen=True)
class Declaration:
    doc: str
    """What the field does, for the documentation derived from it."""
    check: Check | None = None
    secret: bool = False
    """Never shown (as "(set)" when set) and never logged."""
    note: str = ""
    """A short comment beside the field in an example file."""
    choices_text: str = ""
    """For an enumeration: the error's "expected ..." when it is not its values listed."""


def declared(
    default: T,
    doc: str,
    check: Check | None = None,
    *,
    secret: bool = False,
    note: str = "",
    choices_text: str = "",
) -> T:
    """A dataclass field with its declaration; its type is the field's annotation."""
    declaration = Declaration(doc, check, secret, note, choices_text)
    made: T = field(default=default, metadata={"declared": declaration})
    return made


class Refused(ValueError):
    """A raw value that is not one of the field's: `expected` completes "expected ...",
    `value` is what was given (as a number, when a number was given for a float field)."""

    def __init__(self, expected: str, value: object) -> None:
        super().__init__(f"expected {expected}, got {value!r}")
        self.expected = expected
        self.value = value


@dataclass(frozen=True)
class Entry:
    """One declared field of a dataclass, its annotation resolved."""

    name: str
    kind: type
    default: Any
    declaration: Declaration

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def check(self) -> Check | None:
        """The field's check; an enumeration checks its values unless it declares one."""
        declared_check = self.declaration.check
        if declared_check is None and issubclass(self.kind, enum.Enum):
            return one_of([m.value for m in self.kind], self.declaration.choices_text)
        return declared_check


@cache
def entries(cls: type) -> tuple[Entry, ...]:
    """The declared fields of a dataclass, in order; one without a declaration is an error
    at import (a field nobody documented)."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    found = []
    for f in fields(cls):
        declaration = f.metadata.get("declared")
        if declaration is None:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared")
        found.append(Entry(f.name, hints[f.name], _default(f), declaration))
    return tuple(found)


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


TYPE_NAMES = {bool: "bool", int: "int", float: "number", str: "string"}
"""The kind of a scalar as the config file's errors name it ("expected a int" is what its
users and tests have seen; the board file's errors say "an integer", see its loader)."""


def converted(entry: Entry, raw: object, names: dict[type, str] | None = None) -> Any:
    """`raw` as a value of the entry's type, checked; Refused says what was expected. An
    int is a number (float); a bool is no number. `names`: how each scalar type is named
    in "expected a ..." (default TYPE_NAMES)."""
    kind = entry.kind
    base = str if issubclass(kind, enum.Enum) else kind
    if base is float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    elif base is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, base)
    if not ok:
        raise Refused(f"a {(names or TYPE_NAMES)[base]}", raw)
    value: Any = float(raw) if base is float else raw  # type: ignore[arg-type]
    check = entry.check()
    if check is not None and not check.holds(value):
        raise Refused(check.expected, value)
    return kind(value) if kind is not base else value
