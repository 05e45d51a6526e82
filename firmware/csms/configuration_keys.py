"""OCPP 1.6 configuration keys: the standard's names, types, read-only flags and checks.

Values are strings on the wire and in the store (the settings table, prefix `ocpp:`), so what
GetConfiguration returns is exactly what was accepted. A key is either read-only (its value
comes from the hardware or the build), writable and live (listeners apply it at once), or
writable but read only at start-up (ChangeConfiguration answers RebootRequired).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pievse.firmware.persistence.store import Store

log = logging.getLogger(__name__)
PREFIX = "ocpp:"
VALUE_MAX_LENGTH = 500
PHASE_ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")


@dataclass(frozen=True)
class KeySpec:
    name: str
    kind: str
    """"bool", "int", "csl" (comma-separated list) or "str"."""
    default: str
    readonly: bool = False
    reboot_required: bool = False
    minimum: int = 0
    maximum: int = 2**31 - 1
    items: frozenset[str] | None = None
    """For "csl": the allowed items; None allows any item the `check` accepts."""
    max_items: int = 64
    check: Callable[[str], bool] | None = field(default=None, compare=False)
    write_only: bool = False
    """Never returned by GetConfiguration and never logged (credentials)."""
    accept_change: Callable[[str], bool] | None = field(default=None, compare=False)
    """A rule on the box's state a ChangeConfiguration must pass (a stored value is not
    judged by it at start-up: the state it depends on may not exist yet)."""


T = TypeVar("T")


@dataclass(frozen=True)
class Key(Generic[T]):
    """A key declared once: its name, its type (how its text reads) and its bounds. The
    default comes where the spec is built (`spec`), because some follow the config file; a
    misspelt handle is a NameError at import, not a KeyError in a long-running task."""

    name: str
    readonly: bool = False
    reboot_required: bool = False
    write_only: bool = False

    kind = "str"

    def read(self, text: str) -> T:
        raise NotImplementedError

    def _spec(self, default: str, **details: Any) -> KeySpec:
        return KeySpec(
            self.name,
            self.kind,
            default,
            readonly=self.readonly,
            reboot_required=self.reboot_required,
            write_only=self.write_only,
            **details,
        )


@dataclass(frozen=True)
class Flag(Key[bool]):
    kind = "bool"

    def read(self, text: str) -> bool:
        return text == "true"

    def spec(self, default: bool) -> KeySpec:
        return self._spec("true" if default else "false")


@dataclass(frozen=True)
class Number(Key[int]):
    minimum: int = 0
    maximum: int = 2**31 - 1

    kind = "int"

    def read(self, text: str) -> int:
        return int(text)

    def spec(self, default: int, accept_change: Callable[[str], bool] | None = None) -> KeySpec:
        return self._spec(
            str(default),
            minimum=self.minimum,
            maximum=self.maximum,
            accept_change=accept_change,
        )


@dataclass(frozen=True)
class Items(Key[list[str]]):
    """A comma-separated list; `items` at spec time: what the box can deliver."""

    max_items: int = 64

    kind = "csl"

    def read(self, text: str) -> list[str]:
        return text.split(",") if text else []

    def spec(self, default: str, items: frozenset[str] | None = None) -> KeySpec:
        return self._spec(default, items=items, max_items=self.max_items)


@dataclass(frozen=True)
class Text(Key[str]):
    def read(self, text: str) -> str:
        return text

    def spec(
        self,
        default: str,
        check: Callable[[str], bool] | None = None,
        accept_change: Callable[[str], bool] | None = None,
    ) -> KeySpec:
        return self._spec(default, check=check, accept_change=accept_change)


class KeyValueError(ValueError):
    pass


def _normalise(spec: KeySpec, raw: str) -> str:
    if len(raw) > VALUE_MAX_LENGTH:
        raise KeyValueError(f"longer than {VALUE_MAX_LENGTH} characters")
    value = raw.strip()
    if spec.kind == "bool":
        if value.lower() not in ("true", "false"):
            raise KeyValueError('expected "true" or "false"')
        return value.lower()
    if spec.kind == "int":
        if not re.fullmatch(r"\+?\d{1,10}", value):
            raise KeyValueError("expected a whole number")
        number = int(value)
        if not spec.minimum <= number <= spec.maximum:
            raise KeyValueError(f"expected {spec.minimum}..{spec.maximum}")
        return str(number)
    if spec.kind == "csl":
        items = [item.strip() for item in value.split(",")] if value else []
        if any(not item for item in items):
            raise KeyValueError("empty item in the list")
        if len(items) > spec.max_items:
            raise KeyValueError(f"at most {spec.max_items} items")
        unknown = [i for i in items if spec.items is not None and i not in spec.items]
        if unknown:
            raise KeyValueError(f"unsupported item(s): {', '.join(unknown)}")
        if len(set(items)) != len(items):
            raise KeyValueError("an item is listed twice")
        value = ",".join(items)
    if spec.check is not None and not spec.check(value):
        raise KeyValueError("value not in the accepted form")
    return value


def valid_phase_rotation(value: str) -> bool:
    """`0.RST,1.RST`: connector id, dot, one of the standard's rotations."""
    pattern = rf"[01]\.({'|'.join(PHASE_ROTATIONS)})"
    return all(re.fullmatch(pattern, item) for item in value.split(",")) if value else False


class ConfigurationKeys:
    def __init__(self, store: Store, specs: Iterable[KeySpec]) -> None:
        self._store = store
        self._specs = {spec.name: spec for spec in specs}
        self._by_folded = {name.casefold(): name for name in self._specs}
        self._listeners: dict[str, list[Callable[[str], None]]] = {}
        self._values: dict[str, str] = {}
        for spec in self._specs.values():
            stored = None if spec.readonly else store.get_setting(PREFIX + spec.name)
            value = spec.default
            if stored is not None:
                try:
                    value = _normalise(spec, stored)
                except KeyValueError as exc:
                    log.warning(
                        "stored %s=%r ignored (%s); using the default", spec.name, stored, exc
                    )
            self._values[spec.name] = value

    def spec(self, key: Key[Any] | str) -> KeySpec:
        return self._specs[key if isinstance(key, str) else key.name]

    def get(self, key: Key[T]) -> T:
        """The value in its type (write-only keys too: for the code that uses them)."""
        return key.read(self._values[key.name])

    def value(self, name: str) -> str:
        """The value as stored, by the name a 2.0.1 variable or GetConfiguration has."""
        return self._values[name]

    def on_change(self, key: Key[Any], listener: Callable[[str], None]) -> None:
        self._listeners.setdefault(key.name, []).append(listener)

    def standard_name(self, asked: str) -> str | None:
        """Key names are CiString (OCPP 1.6 section 7.17): `connectiontimeout` is
        ConnectionTimeOut. None for a key this box does not have."""
        return self._by_folded.get(asked.casefold())

    def get_configuration(
        self, keys: list[str] | None
    ) -> tuple[list[dict[str, object]], list[str]]:
        """(configurationKey entries, unknownKey names) as GetConfiguration.conf carries them;
        a known key answers with its standard spelling, an unknown one as it was asked."""
        wanted = keys if keys else [n for n in self._specs if not self._specs[n].write_only]
        known: dict[str, dict[str, object]] = {}
        unknown: list[str] = []
        for asked in dict.fromkeys(wanted):
            name = self.standard_name(asked)
            spec = None if name is None else self._specs[name]
            if spec is None or spec.write_only:
                unknown.append(asked)
                continue
            known[spec.name] = {
                "key": spec.name,
                "readonly": spec.readonly,
                "value": self._values[spec.name],
            }
        return list(known.values()), unknown

    def change(self, asked: str, raw: str) -> str:
        """ChangeConfiguration: Accepted, Rejected, RebootRequired or NotSupported."""
        name = self.standard_name(asked)
        if name is None:
            return "NotSupported"
        spec = self._specs[name]
        if spec.readonly:
            log.info("ChangeConfiguration %s rejected: read-only", name)
            return "Rejected"
        try:
            value = _normalise(spec, raw)
        except KeyValueError as exc:
            shown = "(hidden)" if spec.write_only else repr(raw)
            log.info("ChangeConfiguration %s=%s rejected: %s", name, shown, exc)
            return "Rejected"
        if spec.accept_change is not None and not spec.accept_change(value):
            log.info("ChangeConfiguration %s rejected by the box's state", name)
            return "Rejected"
        self.set(name, value)
        return "RebootRequired" if spec.reboot_required else "Accepted"

    def set(self, key: Key[Any] | str, value: str, notify: bool = True) -> None:
        """Store a value already in normal form (the CSMS's or the product's own);
        `notify=False` for the owner of a key putting back a value it owns."""
        name = key if isinstance(key, str) else key.name
        spec = self._specs[name]
        self._store.set_setting(PREFIX + name, value)
        changed = self._values[name] != value
        self._values[name] = value
        if changed and notify and not spec.reboot_required:
            for listener in self._listeners.get(name, []):
                listener(value)
