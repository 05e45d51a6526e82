"""Declared values: each field of a hand-written input (the config file, a board file, a
request body) declared once, as a dataclass field with its type, default, check, secrecy
and description, and read from a raw (TOML or JSON) value by one checker.

It sits at the bottom of the package graph, stdlib only, so that the config file, the
board loader and the local API can all declare their fields the same way.

Why stdlib dataclasses with field metadata rather than a schema library such as msgspec:
an error must name the file, the key and what is expected in the words the box's users and
tests know, which msgspec's own ("Expected `int` >= 10 - at `$.control.tick_ms`") are not,
so the checks here would stay and msgspec would only add a compiled dependency. Measured
on the development machine (x86-64, Python 3.11, loaded; CPU time, min of 15, after the
stdlib modules; `python tests/bench/bench_config_import.py --with <python with msgspec>`):
the config as it was (dataclasses and a `_RULES` table) 23.5 ms and +1.7 MB RSS; the whole
declaration read through this module 31 ms and +1.1 MB; msgspec 0.23 alone 11-13 ms and
+1.3 MB, the same schema as msgspec Structs 20 ms and +2.0 MB.
"""

from __future__ import annotations

import enum
import reprlib
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import MISSING, Field, field, fields
from typing import Any, NamedTuple, TypeGuard, TypeVar

T = TypeVar("T")


class Check(NamedTuple):
    """What a value must be beyond its type: `expected` completes "expected ..." in an
    error message, `holds` tells whether a value (already of the field's type) is one."""

    expected: str
    holds: Callable[[Any], bool]
    bounds: str = ""
    """low..high, where there are such (what a missing value would have had to be)."""
    says_type: bool = False
    """`expected` names the type too ("a number from 0 to 80"): a value of another type
    is refused with it as well."""


def within(
    low: float,
    high: float,
    *,
    also: float | None = None,
    text: str = "",
    says_type: bool = False,
) -> Check:
    """low..high (both included); `also` one more value outside (0 for "off")."""

    def holds(value: float) -> bool:
        return low <= value <= high or (also is not None and value == also)

    bounds = f"{low}..{high}"
    shown = bounds if also is None else f"{also} or {bounds}"
    return Check(text or shown, holds, bounds, says_type)


def rule(expected: str, holds: Callable[[Any], bool], *, says_type: bool = False) -> Check:
    return Check(expected, holds, says_type=says_type)


def at_most(n: int) -> Check:
    return Check(f"at most {n} characters", lambda value: len(value) <= n)


def empty_or(expected: str, holds: Callable[[str], bool]) -> Check:
    """An optional text: empty, or what `holds` accepts."""
    return Check(f"empty, or {expected}", lambda value: value == "" or holds(value))


def one_of(values: Iterable[object], text: str = "", *, says_type: bool = False) -> Check:
    """Equal to one of `values` (a bool is never one of numbers)."""
    allowed = tuple(values)
    quoted = [f'"{v}"' for v in allowed]
    shown = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"

    def holds(value: object) -> bool:
        return not isinstance(value, bool) and value in allowed

    return Check(text or shown, holds, says_type=says_type)


class Declaration(NamedTuple):
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


def required(doc: str, check: Check | None = None) -> Any:
    """A declared field without a default: the input must give it (the dataclass is then
    `kw_only`, so required and optional fields may come in any order)."""
    made: Any = field(metadata={"declared": Declaration(doc, check)})
    return made


class FieldError(ValueError):
    """What `read` refuses: `name` is the field (or the first unknown one)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Refused(FieldError):
    """A value that is not one of the field's: `expected` completes "expected ...",
    `value` is what was given (as a float, when a number was given for a float field,
    unless the reader shows raw values)."""

    def __init__(self, expected: str, value: object, name: str = "") -> None:
        super().__init__(name, f"expected {expected}, got {shown(value)}")
        self.expected = expected
        self.value = value


def shown(value: object) -> str:
    """`value` as an error shows it: its repr, cut short where that is long or deep (a JSON
    input, an API body or an MQTT message, may hold a list of 100 000 items or one nested
    as deep as the parser goes, which an error would otherwise echo whole)."""
    return _SHOWN.repr(value)


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 4
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 12
_SHOWN.maxstring = _SHOWN.maxother = 200
_SHOWN.maxlong = 60


class Unknown(FieldError):
    """Fields the declaration does not have, in the input's order."""

    def __init__(self, names: list[str], known: list[str]) -> None:
        super().__init__(names[0], f"unknown (known: {', '.join(known)})")
        self.names = names
        self.known = known


class Missing(FieldError):
    def __init__(self, entry: Entry) -> None:
        super().__init__(entry.name, "missing")
        self.entry = entry


class Entry(NamedTuple):
    """One declared field of a dataclass, its annotation resolved (`T | None`: `kind` is
    T and `optional` is set: null is the default; `list[T]`, `dict[K, V]`: `kind` is list
    or dict, whose items the field's check looks into)."""

    name: str
    kind: type
    default: Any
    declaration: Declaration
    optional: bool = False

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def check(self) -> Check | None:
        """The field's check; an enumeration checks its values unless it declares one."""
        declared_check = self.declaration.check
        if declared_check is None and issubclass(self.kind, enum.Enum):
            return one_of([m.value for m in self.kind], self.declaration.choices_text)
        return declared_check


def entries(cls: type[Any]) -> tuple[Entry, ...]:
    """The declared fields of a dataclass, in order; one without a declaration is an error
    (a field nobody documented)."""
    found = _ENTRIES.get(cls)
    if found is None:
        found = _ENTRIES[cls] = _entries(cls)
    return found


_ENTRIES: dict[type[Any], tuple[Entry, ...]] = {}


def _entries(cls: type[Any]) -> tuple[Entry, ...]:
    namespace = vars(sys.modules[cls.__module__])
    found = []
    for f in fields(cls):
        declaration = f.metadata.get("declared")
        if declaration is None:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared")
        kind, optional = _resolved(f.type, namespace)
        found.append(Entry(f.name, kind, _default(f), declaration, optional))
    return tuple(found)


def _resolved(annotation: object, namespace: dict[str, Any]) -> tuple[type, bool]:
    """The type an annotation names (a string under `from __future__ import annotations`:
    evaluated in the module, as typing.get_type_hints would, at a tenth of its cost) and
    whether it is `T | None`; a generic one (`list[int]`) names its plain type."""
    if isinstance(annotation, str):
        annotation = eval(annotation, namespace)  # the declaring module's own source
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return _plain(annotation), False
    kinds = [k for k in typing.get_args(annotation) if k is not type(None)]
    if len(kinds) == 1:
        return _plain(kinds[0]), True
    return annotation, False  # type: ignore[return-value]


def _plain(annotation: Any) -> type:
    plain: type = typing.get_origin(annotation) or annotation
    return plain


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


TYPE_NAMES = {bool: "a bool", int: "a int", float: "a number", str: "a string"}
"""The kind of a scalar as the config file's errors name it ("expected a int" is what its
users and tests have seen; the other inputs say it as `PLAIN_TYPE_NAMES` does)."""
PLAIN_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
"""How a board file, a request body and a site message name the kind they expected."""


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON or TOML number: an int or a float, never a bool (Python's bool is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def numbers_or_null(values: list[Any]) -> bool:
    """Each a number or null (a reading per phase where a phase may not be measured)."""
    return all(v is None or is_number(v) for v in values)


def converted(
    entry: Entry,
    raw: object,
    names: dict[type, str] | None = None,
    *,
    show_raw: bool = False,
    json_numbers: bool = False,
) -> Any:
    """`raw` as a value of the entry's type, checked; Refused says what was expected. An
    int is a number (float); a bool is no number. `names`: how each scalar type is named
    in "expected ..." (default TYPE_NAMES); `show_raw`: a refused number is shown as given;
    `json_numbers`: 3.0 is the integer 3 (JSON has one kind of number; TOML has two)."""
    kind = entry.kind
    base = str if issubclass(kind, enum.Enum) else kind
    if json_numbers and base is int and isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if base is float:
        ok = is_number(raw)
    elif base is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, base)
    check = entry.check()
    if not ok:
        says = check is not None and check.says_type
        raise Refused(check.expected if says else (names or TYPE_NAMES)[base], raw, entry.name)  # type: ignore[union-attr]
    value: Any = as_float(raw) if base is float else raw  # type: ignore[arg-type]
    if check is not None and not check.holds(value):
        raise Refused(check.expected, raw if show_raw else value, entry.name)
    return kind(value) if kind is not base else value


def as_float(raw: float) -> float:
    """JSON (an API body, an MQTT message) has integers no float holds: they are beyond
    every bound, not an OverflowError."""
    try:
        return float(raw)
    except OverflowError:
        return float("inf") if raw > 0 else float("-inf")


def read(
    cls: type[T],
    table: dict[str, Any],
    names: dict[type, str] | None = None,
    *,
    show_raw: bool = False,
    null_is_absent: bool = False,
    in_declared_order: bool = False,
    json_numbers: bool = False,
) -> T:
    """An instance of the declared dataclass `cls` from a raw table, read in the table's
    order: an unknown field, a refused value and a missing required one each raise their
    FieldError.
    `null_is_absent`: a JSON null stands for a field not given (else it is the None of a
    `T | None` field, and refused for another); `json_numbers`: see `converted`;
    `in_declared_order`: the fields are read in the declaration's order (unknown ones
    first), so the first error is the same whatever order the file has."""
    declared_entries = {e.name: e for e in entries(cls)}
    unknown = [name for name in table if name not in declared_entries]
    if unknown and in_declared_order:
        raise Unknown(unknown, list(declared_entries))
    order = list(declared_entries) if in_declared_order else [*table, *declared_entries]
    values: dict[str, Any] = {}
    for name in dict.fromkeys(order):
        entry = declared_entries.get(name)
        if entry is None:
            raise Unknown(unknown, list(declared_entries))
        raw = table.get(name)
        if name not in table or (null_is_absent and raw is None):
            if entry.required:
                raise Missing(entry)
            continue
        values[name] = (
            None
            if raw is None and entry.optional
            else converted(entry, raw, names, show_raw=show_raw, json_numbers=json_numbers)
        )
    return cls(**values)
