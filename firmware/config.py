"""The configuration file (TOML): every key typed, bounded and documented in the README.

An error names the file, the key and what is expected; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pievse.firmware.security.authorization_key import FORMS as AUTHORIZATION_KEY_FORMS
from pievse.firmware.security.authorization_key import valid_authorization_key


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ChargePointConfig:
    id: str = "pievse-0001"
    """The box's name at its CSMS (the last part of the URL it connects to)."""
    vendor: str = "pievse"
    model: str = ""
    """Empty: the board's name."""
    serial: str = ""
    """Empty: the charge point id."""
    meter_serial: str = ""


AUTO = "auto"


@dataclass(frozen=True)
class OcppConfig:
    csms_url: str = ""
    """The CSMS's ws:// or wss:// URL; empty: standalone, no CSMS."""
    version: str = "1.6"
    """"1.6", "2.0.1" or "auto" (both offered, the CSMS chooses; kept for the next start)."""
    response_timeout_s: float = 30.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0


MAX_ALLOWED_HOSTS = 16


@dataclass(frozen=True)
class ApiConfig:
    listen: str = "127.0.0.1:8080"
    token: str = ""
    """Needed beyond loopback for everything that changes state; empty: one is generated at
    the first start, kept in the data directory and written once to a 0600 file."""
    lan_read: bool = False
    """Beyond loopback, reading (GET) without the token too."""
    allowed_hosts: str = ""
    """Comma-separated names (besides its addresses) a `Host` header may give the box."""
    head_timeout_s: float = 10.0
    """A connection without a request in progress (a half-sent head, idle) is closed then."""


@dataclass(frozen=True)
class ControlConfig:
    tick_ms: int = 100
    suspend_timeout_s: float = 6.0
    duty_hold_s: float = 5.0
    contactor_release_s: float = 0.1
    fault_retry_s: float = 10.0
    connection_timeout_s: float = 60.0
    resume_after_power_loss: bool = False
    """A session cut by a power loss goes on if its EV is still plugged in at restart."""


@dataclass(frozen=True)
class LimitsConfig:
    site_max_current_a: float = 80.0


@dataclass(frozen=True)
class SiteConfig:
    main_fuse_a: float = 0.0
    """Per phase; 0 turns main-fuse protection off."""
    grid_timeout_s: float = 11.0
    failsafe_current_a: float = 6.0
    """The offer while the grid reading is stale; 0 suspends."""
    ramp_up_a_per_s: float = 1.0
    hysteresis_a: float = 0.5
    mode: str = "fast"
    """At start-up, until the local API sets another (which is kept across restarts)."""
    pv_enable_delay_s: float = 60.0
    """In the PV modes: how long the surplus must cover 6 A before charging starts."""
    pv_disable_delay_s: float = 180.0
    """In the PV modes: how long the surplus may miss 6 A before charging stops."""
    pv_min_charge_s: float = 600.0
    pv_hysteresis_a: float = 0.5
    pv_smoothing_s: float = 30.0
    three_phase_delay_s: float = 600.0
    """1p -> 3p only after three phases could have charged this long; 3p -> 1p after the
    PV disable delay. Only boards with a phase contactor switch."""
    phase_switch_pause_s: float = 10.0
    """How long the pilot holds the EV off after the phase contactor switched."""
    phase_switch_pilot: str = "F"
    """The pilot during that pause: "F" (-12 V) or "B1" (steady +12 V)."""
    max_phase_switches: int = 4
    """Per plug-in: an EV that must re-detect its supply is not asked endlessly."""
    id: str = ""
    """Several boxes on one supply share `main_fuse_a` over MQTT under this id; empty: the
    box is alone on its supply."""
    max_boxes: int = 8
    """The most boxes the site will have: the failsafe share is main_fuse_a / max_boxes."""
    peer_timeout_s: float = 30.0
    rotation_s: float = 1800.0
    """When not every waiting EV can have 6 A, each gets a turn this long."""
    priority: int = 0
    """Higher is served first (among EVs that are equally in need)."""
    phase_rotation: str = "L1L2L3"
    """The site's phases this box's L1, L2 and L3 are wired to."""
    house_metered: bool = False
    """True: the supply also feeds a house, whose load the site's grid reading shows (the
    allocation falls back while it is stale); false: it feeds only the boxes."""
    secret: str = ""
    """Shared by the site's boxes: their messages carry an HMAC signature with it."""
    accept_unsigned: bool = False
    """True: share the site without a secret, trusting every client of the broker with the
    fuse (any of them can fake claims and grid readings)."""


@dataclass(frozen=True)
class MeterConfig:
    poll_interval_s: float = 1.0
    offline_after_failures: int = 3
    on_loss: str = "stop"
    overcurrent_tolerance_a: float = 2.0
    ev_response_s: float = 5.0


@dataclass(frozen=True)
class SmartChargingConfig:
    rate_units: str = "Current,Power"
    """ChargingScheduleAllowedChargingRateUnit: what SetChargingProfile may use."""
    max_stack_level: int = 10
    max_periods: int = 48
    max_profiles: int = 20


@dataclass(frozen=True)
class StandaloneConfig:
    free_vend_id_tag: str = ""


@dataclass(frozen=True)
class SecurityConfig:
    profile: int = -1
    """OCPP Security Whitepaper profile 0..3; -1: from the CSMS URL and the key (below)."""
    authorization_key: str = ""
    """AuthorizationKey (hex digits or a plaintext password) until the CSMS sets another."""
    cpo_name: str = ""
    csms_url_tls: str = ""
    """The wss:// URL for profiles 2 and 3; empty: csms_url if it is wss://, else csms_url
    with wss:// (same host and port)."""
    central_system_root_certificate: str = ""
    """A PEM file of CentralSystemRootCertificate(s) installed at start (first trust)."""
    manufacturer_root_certificate: str = ""
    charge_point_certificate: str = ""
    """Factory-provisioned client certificate chain (PEM) for profile 3, with its key."""
    charge_point_key: str = ""
    additional_root_certificate_check: bool = False
    certificate_store_max_length: int = 20
    upgrade_attempts: int = 3
    """Failed connections with a new profile or key before the old ones come back."""
    security_log_max_entries: int = 1000

    def effective_profile(self, csms_url: str) -> int:
        """With `profile` unset: 2 for wss://; for ws://, 1 with a key and 0 without one
        (a bench or a first install must be able to start; the box warns)."""
        if self.profile >= 0:
            return self.profile
        if csms_url.startswith("wss://"):
            return 2
        return 1 if self.authorization_key else 0


@dataclass(frozen=True)
class FirmwareConfig:
    install_root: str = "/opt/pievse"
    """Where the releases live (releases/<version>/, current, previous)."""
    verify_timeout_s: float = 300.0
    """A new release must register (BootNotification Accepted) this soon, or it is rolled back."""
    retries: int = 3
    """Download and upload attempts after the first, when the CSMS gives none."""
    retry_interval_s: int = 60
    max_bundle_mb: int = 300
    """The size cap: a larger bundle is refused before (Content-Length) or while it comes."""
    download_deadline_s: float = 3600.0
    """Each file of an update (bundle, signature, certificate) not complete this soon fails
    its download attempt, however the server paces its bytes."""
    allow_unsigned: bool = False
    """Only while no ManufacturerRootCertificate is provisioned: install bundles nobody
    signed. Anyone who can reach the CSMS or the firmware server then runs code on the box."""


@dataclass(frozen=True)
class MqttConfig:
    url: str = ""
    """mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; empty: no MQTT."""
    username: str = ""
    """The broker's login; empty: none."""
    password: str = ""
    """Never logged, never shown by `pievse config`."""
    ca_file: str = ""
    """For mqtts://: the CA that signed the broker's certificate; empty: the system's."""
    topic_prefix: str = "pievse"
    """The box's topics are <topic_prefix>/<charge point id>/..."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix; empty: no discovery."""
    state_interval_s: float = 30.0
    """The state is published on change and at least this often."""
    grid_readings: bool = False
    """A box alone on its supply (no [site] id) takes the grid's currents published on
    <topic_prefix>/<id>/set/mains_meter as PUT /api/site/grid takes them: any client that
    may publish there steers main-fuse protection between 0 A and main_fuse_a."""


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


PHASE_ROTATIONS = {"L1L2L3": (0, 1, 2), "L2L3L1": (1, 2, 0), "L3L1L2": (2, 0, 1)}
"""A box's L1, L2, L3 on the site's phases: one-phase boxes spread over the supply."""

# (section, key) -> check of the value beyond its type; returns an error or None.
_RULES: dict[tuple[str, str], tuple[str, Any]] = {
    ("charge_point", "id"): (
        "1 to 48 printable characters without '/'",
        lambda v: 0 < len(v) <= 48 and v.isprintable() and "/" not in v,
    ),
    ("charge_point", "vendor"): ("1 to 20 characters", lambda v: 0 < len(v) <= 20),
    ("charge_point", "model"): ("at most 20 characters", lambda v: len(v) <= 20),
    ("charge_point", "serial"): ("at most 25 characters", lambda v: len(v) <= 25),
    ("charge_point", "meter_serial"): ("at most 25 characters", lambda v: len(v) <= 25),
    ("ocpp", "response_timeout_s"): ("1..300", lambda v: 1 <= v <= 300),
    ("ocpp", "reconnect_min_s"): ("0.1..600", lambda v: 0.1 <= v <= 600),
    ("ocpp", "reconnect_max_s"): ("0.1..3600", lambda v: 0.1 <= v <= 3600),
    ("ocpp", "version"): ('"1.6", "2.0.1" or "auto"', lambda v: v in ("1.6", "2.0.1", AUTO)),
    ("ocpp", "csms_url"): (
        "empty, or a ws:// or wss:// URL",
        lambda v: v == "" or v.startswith(("ws://", "wss://")),
    ),
    ("api", "listen"): ("HOST:PORT", lambda v: parse_listen(v) is not None),
    ("api", "token"): (
        "empty, or 16 to 128 printable ASCII characters without spaces",
        lambda v: (
            v == "" or (16 <= len(v) <= 128 and v.isascii() and v.isprintable() and " " not in v)
        ),
    ),
    ("api", "allowed_hosts"): (
        f"comma-separated host names or addresses without ports, at most {MAX_ALLOWED_HOSTS}",
        lambda v: allowed_host_names(v) is not None,
    ),
    ("api", "head_timeout_s"): ("1..300", lambda v: 1 <= v <= 300),
    ("control", "tick_ms"): ("10..1000", lambda v: 10 <= v <= 1000),
    ("control", "suspend_timeout_s"): ("0..60", lambda v: 0 <= v <= 60),
    ("control", "duty_hold_s"): ("0..60", lambda v: 0 <= v <= 60),
    ("control", "contactor_release_s"): ("0.01..2", lambda v: 0.01 <= v <= 2),
    ("control", "fault_retry_s"): ("0.05..3600", lambda v: 0.05 <= v <= 3600),
    ("control", "connection_timeout_s"): ("1..3600", lambda v: 1 <= v <= 3600),
    ("limits", "site_max_current_a"): ("0..80", lambda v: 0 <= v <= 80),
    ("site", "main_fuse_a"): ("0 (off) or 6..1000", lambda v: v == 0 or 6 <= v <= 1000),
    ("site", "grid_timeout_s"): ("1..600", lambda v: 1 <= v <= 600),
    ("site", "failsafe_current_a"): ("0 or 6..80", lambda v: v == 0 or 6 <= v <= 80),
    ("site", "ramp_up_a_per_s"): ("0.1..100", lambda v: 0.1 <= v <= 100),
    ("site", "hysteresis_a"): ("0..10", lambda v: 0 <= v <= 10),
    ("site", "mode"): (
        '"fast", "pv", "min_pv" or "off"',
        lambda v: v in ("fast", "pv", "min_pv", "off"),
    ),
    ("site", "pv_enable_delay_s"): ("0..3600", lambda v: 0 <= v <= 3600),
    ("site", "pv_disable_delay_s"): ("0..3600", lambda v: 0 <= v <= 3600),
    ("site", "pv_min_charge_s"): ("0..86400", lambda v: 0 <= v <= 86_400),
    ("site", "pv_hysteresis_a"): ("0..10", lambda v: 0 <= v <= 10),
    ("site", "pv_smoothing_s"): ("0..600", lambda v: 0 <= v <= 600),
    ("site", "three_phase_delay_s"): ("0..86400", lambda v: 0 <= v <= 86_400),
    ("site", "phase_switch_pause_s"): (
        "5..120 (an EV needs 5 s to re-detect its supply)",
        lambda v: 5 <= v <= 120,
    ),
    ("site", "phase_switch_pilot"): ('"F" or "B1"', lambda v: v in ("F", "B1")),
    ("site", "max_phase_switches"): ("0..100", lambda v: 0 <= v <= 100),
    ("site", "id"): (
        "empty, or 1 to 48 letters, digits, '-' or '_'",
        lambda v: len(v) <= 48 and all(c.isascii() and (c.isalnum() or c in "-_") for c in v),
    ),
    ("site", "max_boxes"): ("1..1000", lambda v: 1 <= v <= 1000),
    ("site", "peer_timeout_s"): ("3..600", lambda v: 3 <= v <= 600),
    ("site", "rotation_s"): ("10..86400", lambda v: 10 <= v <= 86_400),
    ("site", "priority"): ("-100..100", lambda v: -100 <= v <= 100),
    ("site", "phase_rotation"): (
        '"L1L2L3", "L2L3L1" or "L3L1L2"',
        lambda v: v in PHASE_ROTATIONS,
    ),
    ("site", "secret"): (
        "empty, or 16 to 128 characters",
        lambda v: v == "" or 16 <= len(v) <= 128,
    ),
    ("meter", "poll_interval_s"): ("0.1..60", lambda v: 0.1 <= v <= 60),
    ("meter", "offline_after_failures"): ("1..100", lambda v: 1 <= v <= 100),
    ("meter", "on_loss"): ('"stop" or "continue"', lambda v: v in ("stop", "continue")),
    ("meter", "overcurrent_tolerance_a"): ("0..20", lambda v: 0 <= v <= 20),
    ("meter", "ev_response_s"): ("0..30", lambda v: 0 <= v <= 30),
    ("standalone", "free_vend_id_tag"): ("at most 20 characters", lambda v: len(v) <= 20),
    ("smart_charging", "rate_units"): (
        '"Current", "Power" or "Current,Power"',
        lambda v: v in ("Current", "Power", "Current,Power", "Power,Current"),
    ),
    ("smart_charging", "max_stack_level"): ("0..100", lambda v: 0 <= v <= 100),
    ("smart_charging", "max_periods"): ("1..1000", lambda v: 1 <= v <= 1000),
    ("smart_charging", "max_profiles"): ("1..1000", lambda v: 1 <= v <= 1000),
    ("security", "profile"): ("0..3 (or -1: from the URL)", lambda v: -1 <= v <= 3),
    ("security", "authorization_key"): (
        f"empty, or {AUTHORIZATION_KEY_FORMS}",
        lambda v: v == "" or valid_authorization_key(v),
    ),
    ("security", "cpo_name"): ("at most 64 characters", lambda v: len(v) <= 64),
    ("security", "csms_url_tls"): (
        "empty, or a wss:// URL",
        lambda v: v == "" or v.startswith("wss://"),
    ),
    ("security", "certificate_store_max_length"): ("1..100", lambda v: 1 <= v <= 100),
    ("security", "upgrade_attempts"): ("1..100", lambda v: 1 <= v <= 100),
    ("security", "security_log_max_entries"): ("10..100000", lambda v: 10 <= v <= 100_000),
    ("mqtt", "url"): (
        "empty, or mqtt://HOST[:PORT] or mqtts://HOST[:PORT]",
        lambda v: v == "" or parse_mqtt_url(v) is not None,
    ),
    ("mqtt", "topic_prefix"): (
        "1 to 64 characters without +, # or a leading or trailing /",
        lambda v: 0 < len(v) <= 64 and not set(v) & {"+", "#"} and v.strip("/") == v,
    ),
    ("mqtt", "discovery_prefix"): (
        "empty, or up to 64 characters without +, #",
        lambda v: len(v) <= 64 and not set(v) & {"+", "#"},
    ),
    ("mqtt", "state_interval_s"): ("1..3600", lambda v: 1 <= v <= 3600),
    ("firmware", "install_root"): ("an absolute path", lambda v: v.startswith("/")),
    ("firmware", "verify_timeout_s"): ("5..3600", lambda v: 5 <= v <= 3600),
    ("firmware", "retries"): ("0..100", lambda v: 0 <= v <= 100),
    ("firmware", "retry_interval_s"): ("0..86400", lambda v: 0 <= v <= 86_400),
    ("firmware", "max_bundle_mb"): ("1..4096", lambda v: 1 <= v <= 4096),
    ("firmware", "download_deadline_s"): ("1..86400", lambda v: 1 <= v <= 86_400),
}


def parse_mqtt_url(value: str) -> tuple[bool, str, int] | None:
    """(TLS, host, port) of an mqtt:// or mqtts:// URL; None when it is not one."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("mqtt", "mqtts") or not rest or "/" in rest.rstrip("/"):
        return None
    host, colon, port = rest.rstrip("/").rpartition(":")
    if not colon:
        host, port = rest.rstrip("/"), ""
    if not host or (port and (not port.isdigit() or not 0 < int(port) < 65536)):
        return None
    tls = scheme == "mqtts"
    return tls, host.strip("[]"), int(port) if port else (8883 if tls else 1883)


def allowed_host_names(value: str) -> frozenset[str] | None:
    """The names of `[api] allowed_hosts` (comma-separated, lower case); None when one is
    not a host name or address (no port), or there are more than MAX_ALLOWED_HOSTS."""
    names = [n.strip().lower().rstrip(".") for n in value.split(",") if n.strip()]
    if len(names) > MAX_ALLOWED_HOSTS or not all(map(_host_name, names)):
        return None
    return frozenset(names)


def _host_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return 0 < len(name) <= 253 and all(
            c.isascii() and (c.isalnum() or c in "-.") for c in name
        )
    return True


def parse_listen(value: str) -> tuple[str, int] | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def with_overrides(config: Config, overrides: dict[str, dict[str, Any]], where: str) -> Config:
    """`config` with some keys set, each checked as in a file (ConfigError names `where`);
    the rest of each section stays as it was. The rules between keys are checked on the
    result, not on the keys set alone (a site id set alone is fine if the config already
    has the broker and the fuse)."""
    checked = _parse_sections(overrides, where)
    for section, keys in overrides.items():
        new = {key: getattr(getattr(checked, section), key) for key in keys}
        config = replace(config, **{section: replace(getattr(config, section), **new)})
    return _shared_checked(config, where)


def expected(section: str, key: str) -> str:
    """What a key's rule asks for, as its error message says it ("" for a type alone)."""
    return _RULES.get((section, key), ("", None))[0]


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
    known_sections = {f.name: f for f in fields(Config)}
    for name, table in data.items():
        if name not in known_sections:
            raise ConfigError(
                f"{where}: [{name}]: unknown section (known: {', '.join(known_sections)})"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}]: expected a table")
        section_type = known_sections[name].default_factory  # type: ignore[misc]
        sections[name] = _parse_section(section_type, name, table, where)
    return Config(**sections)


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


def _parse_section(section_type: Any, name: str, table: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(section_type)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: [{name}] {key}: unknown key (known: {', '.join(known)})")
        default = known[key].default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int) and not isinstance(default, bool):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            try:
                value = float(value) if ok else value
            except OverflowError:  # JSON (the settings route) has integers no float holds
                value = float("inf") if value > 0 else float("-inf")
        else:
            ok = isinstance(value, str)
        description, check = _RULES.get((name, key), ("", lambda _v: True))
        kind = type(default).__name__.replace("str", "string").replace("float", "number")
        if not ok:
            raise ConfigError(f"{where}: [{name}] {key}: expected a {kind}, got {value!r}")
        if not check(value):
            raise ConfigError(f"{where}: [{name}] {key}: expected {description}, got {value!r}")
        values[key] = value
    return section_type(**values)


SECRET_KEYS = frozenset(
    {
        ("security", "authorization_key"),
        ("mqtt", "password"),
        ("api", "token"),
        ("site", "secret"),
    }
)


def dump_config(config: Config) -> str:
    """The configuration as TOML the loader reads back, every key with its value in use;
    a secret that is set shows as "(set)", never its value."""
    lines: list[str] = []
    for section, table in asdict(config).items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            if (section, key) in SECRET_KEYS and value:
                value = "(set)"
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def toml_value(value: object) -> str:
    """One key's value as TOML writes it (config files hold strings, numbers and flags)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A JSON string is a TOML basic string, as long as nothing becomes a \\u escape of
        # a surrogate (TOML has none): keep non-ASCII as it is.
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
