"""The configuration file (TOML): the sections declared in `sections.py`, read, checked and
shown. An error names the file, the key and what is expected; the CLI turns it into exit
code 2.

Code names a key by attribute (`key(lambda c: c.site.main_fuse_a)`), never by a string, so
a misspelt key fails the type check and the import rather than a running box.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from pievse.firmware.config.sections import (
    ApiConfig,
    ChargePointConfig,
    ControlConfig,
    LimitsConfig,
    MeterConfig,
    MeterLossPolicy,
    OcppConfig,
    OcppVersion,
    RateUnits,
    SmartChargingConfig,
    StandaloneConfig,
)
from pievse.firmware.config.site_sections import (
    MqttConfig,
    PhaseRotation,
    PhaseSwitchPilot,
    SiteConfig,
    SiteMode,
)
from pievse.firmware.config.trust_sections import FirmwareConfig, SecurityConfig
from pievse.firmware.config.values import (
    MAX_ALLOWED_HOSTS,
    allowed_host_names,
    parse_listen,
    parse_mqtt_url,
)
from pievse.hal.declared import FieldError, Unknown, entries, read

__all__ = [
    "AUTO",
    "MAX_ALLOWED_HOSTS",
    "PHASE_ROTATIONS",
    "SECRET_KEYS",
    "ApiConfig",
    "ChargePointConfig",
    "Config",
    "ConfigError",
    "ControlConfig",
    "FirmwareConfig",
    "Key",
    "LimitsConfig",
    "MeterConfig",
    "MeterLossPolicy",
    "MqttConfig",
    "OcppConfig",
    "OcppVersion",
    "PhaseRotation",
    "PhaseSwitchPilot",
    "RateUnits",
    "SecurityConfig",
    "SiteConfig",
    "SiteMode",
    "SmartChargingConfig",
    "StandaloneConfig",
    "allowed_host_names",
    "dump_config",
    "expected",
    "key",
    "load_config",
    "parse_config",
    "parse_listen",
    "parse_mqtt_url",
    "sharing_problem",
    "with_overrides",
    "with_values",
]

T = TypeVar("T")


class ConfigError(ValueError):
    pass


AUTO = OcppVersion.AUTO


@dataclass(frozen=True)
class Config:
    charge_point: ChargePointConfig = field(default_factory=ChargePointConfig)
    ocpp: OcppConfig = field(default_factory=OcppConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    meter: MeterConfig = field(default_factory=MeterConfig)
    standalone: StandaloneConfig = field(default_factory=StandaloneConfig)
    smart_charging: SmartChargingConfig = field(default_factory=SmartChargingConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    firmware: FirmwareConfig = field(default_factory=FirmwareConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)


SECTIONS: dict[str, type] = {f.name: type(getattr(Config(), f.name)) for f in fields(Config)}
"""Section name -> its class (that of its default), in the file's order."""

PHASE_ROTATIONS = {
    PhaseRotation.L1L2L3: (0, 1, 2),
    PhaseRotation.L2L3L1: (1, 2, 0),
    PhaseRotation.L3L1L2: (2, 0, 1),
}
"""A box's L1, L2, L3 on the site's phases: one-phase boxes spread over the supply."""

SECRET_KEYS = frozenset(
    (section, entry.name)
    for section, cls in SECTIONS.items()
    for entry in entries(cls)
    if entry.declaration.secret
)


@dataclass(frozen=True)
class Key(Generic[T]):
    """One key of the config file, as code names it."""

    section: str
    name: str

    def __str__(self) -> str:
        return f"[{self.section}] {self.name}"

    def of(self, config: Config) -> T:
        value: T = getattr(getattr(config, self.section), self.name)
        return value


class _Recorder:
    """Stands for a Config (then for one of its sections) and records the attributes read,
    refusing those the declaration does not have."""

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        self._path = path

    def __getattr__(self, name: str) -> _Recorder:
        if name.startswith("_"):
            raise AttributeError(name)
        known = (
            SECTIONS if not self._path else {e.name: e for e in entries(SECTIONS[self._path[0]])}
        )
        if len(self._path) > 1 or name not in known:
            raise AttributeError(f"the config has no {'.'.join((*self._path, name))}")
        return _Recorder((*self._path, name))


def key(select: Callable[[Config], T]) -> Key[T]:
    """The key `select` reads: `key(lambda c: c.site.main_fuse_a)` is `[site] main_fuse_a`,
    typed float."""
    recorded = select(_Recorder())  # type: ignore[arg-type]
    path = recorded._path if isinstance(recorded, _Recorder) else ()
    if len(path) != 2:
        raise AttributeError(f"{select} does not read one key of the config")
    return Key(path[0], path[1])


def with_overrides(config: Config, overrides: dict[str, dict[str, Any]], where: str) -> Config:
    """`config` with some keys set, each checked as in a file (ConfigError names `where`);
    the rest of each section stays as it was. The rules between keys are checked on the
    result, not on the keys set alone (a site id set alone is fine if the config already
    has the broker and the fuse)."""
    checked = _parse_sections(overrides, where)
    for section, keys in overrides.items():
        new = {name: getattr(getattr(checked, section), name) for name in keys}
        config = replace(config, **{section: replace(getattr(config, section), **new)})
    return _shared_checked(config, where)


def with_values(config: Config, values: Mapping[Key[Any], object], where: str) -> Config:
    """`with_overrides` for keys named by `key()`: each checked as in a file."""
    overrides: dict[str, dict[str, Any]] = {}
    for named, value in values.items():
        overrides.setdefault(named.section, {})[named.name] = value
    return with_overrides(config, overrides, where)


def expected(section: str, name: str) -> str:
    """What a key's check asks for, as its error message says it ("" for a type alone)."""
    for entry in entries(SECTIONS[section]):
        if entry.name == name:
            check = entry.check()
            return "" if check is None else check.expected
    raise KeyError(f"[{section}] {name}")


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], where: str = "config") -> Config:
    return _shared_checked(_parse_sections(data, where), where)


def _shared_checked(config: Config, where: str) -> Config:
    problem = sharing_problem(config)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    return config


def _parse_sections(data: dict[str, Any], where: str) -> Config:
    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"{where}: [{name}]: unknown section (known: {', '.join(SECTIONS)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}]: expected a table")
        sections[name] = _parse_section(name, table, where)
    return Config(**sections)


def _parse_section(name: str, table: dict[str, Any], where: str) -> Any:
    try:
        return read(SECTIONS[name], table)
    except Unknown as exc:
        known = ", ".join(exc.known)
        raise ConfigError(f"{where}: [{name}] {exc.name}: unknown key (known: {known})") from None
    except FieldError as exc:
        raise ConfigError(f"{where}: [{name}] {exc.name}: {exc.message}") from None


TOPIC_WILDCARDS = frozenset("+#")


def sharing_problem(config: Config) -> str | None:
    """What keeps the box from sharing its site as configured (the key, then why): the
    site's messages steer the fuse, so they are signed unless the owner says otherwise,
    and the charge point id is a level of their topics."""
    site = config.site
    if config.mqtt.grid_readings and site.id:
        return (
            "[mqtt] grid_readings: a site's boxes share their grid readings signed, on the "
            "site's topics; readings on the box's own topic are for a box alone on its supply"
        )
    if not site.id:
        return None
    if not (config.mqtt.url and site.main_fuse_a):
        return "[site] id: sharing a site needs [mqtt] url and [site] main_fuse_a"
    if not site.secret and not site.accept_unsigned:
        return (
            "[site] secret: sharing a site needs a secret (any client of the broker could "
            "fake claims and grid readings); set accept_unsigned = true to take that risk"
        )
    if set(config.charge_point.id) & TOPIC_WILDCARDS:
        return (
            f"[charge_point] id: {config.charge_point.id!r} cannot be a level of the site's "
            "MQTT topics (no '+' or '#' when sharing a site)"
        )
    return None


def dump_config(config: Config) -> str:
    """The configuration as TOML the loader reads back, every key with its value in use;
    a secret that is set shows as "(set)", never its value."""
    lines: list[str] = []
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        values = getattr(config, section)
        for entry in entries(cls):
            value = getattr(values, entry.name)
            if entry.declaration.secret and value:
                value = "(set)"
            lines.append(f"{entry.name} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A JSON string is a TOML basic string, as long as nothing becomes a \\u escape of
        # a surrogate (TOML has none): keep non-ASCII as it is.
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
