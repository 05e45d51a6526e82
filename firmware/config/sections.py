"""Every key of the config file, declared once: its type, default, check, secrecy and what
it does. The loader, `pievse config`, the README's key table and the example file are all
derived from these classes (the package and `docs.py`); after adding or changing a key,
`python -m pievse.firmware.config.docs README.md deploy/pievse.example.toml` rewrites both
(a test fails until it has).

The README's "values" column comes from each key's check, so a doc says what the key does,
not its bounds. This module is data: tables of declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pievse.firmware.config.values import (
    MAX_ALLOWED_HOSTS,
    allowed_host_names,
    parse_listen,
    parse_mqtt_url,
)
from pievse.firmware.security.authorization_key import FORMS as AUTHORIZATION_KEY_FORMS
from pievse.firmware.security.authorization_key import valid_authorization_key
from pievse.hal.declared import Check, declared, rule, within


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"
    AUTO = "auto"


class SiteMode(StrEnum):
    FAST = "fast"
    PV = "pv"
    MIN_PV = "min_pv"
    OFF = "off"


class PhaseSwitchPilot(StrEnum):
    F = "F"
    B1 = "B1"


class PhaseRotation(StrEnum):
    L1L2L3 = "L1L2L3"
    L2L3L1 = "L2L3L1"
    L3L1L2 = "L3L1L2"


class MeterLossPolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"


class RateUnits(StrEnum):
    CURRENT = "Current"
    POWER = "Power"
    CURRENT_POWER = "Current,Power"
    POWER_CURRENT = "Power,Current"


def _at_most(n: int) -> Check:
    return rule(f"at most {n} characters", lambda v: len(v) <= n)


def _empty_or(expected: str, holds: type[str] | object) -> Check:
    return rule(f"empty, or {expected}", lambda v: v == "" or holds(v))  # type: ignore[operator]


def _printable_id(v: str) -> bool:
    return 0 < len(v) <= 48 and v.isprintable() and "/" not in v


def _token(v: str) -> bool:
    return 16 <= len(v) <= 128 and v.isascii() and v.isprintable() and " " not in v


def _site_id(v: str) -> bool:
    return len(v) <= 48 and all(c.isascii() and (c.isalnum() or c in "-_") for c in v)


def _topic_prefix(v: str) -> bool:
    return 0 < len(v) <= 64 and not set(v) & {"+", "#"} and v.strip("/") == v


@dataclass(frozen=True)
class ChargePointConfig:
    """The box's identity, as BootNotification tells it."""

    id: str = declared(
        "pievse-0001",
        "charge point identity (no `+` or `#` on a shared site, whose topics it names); "
        "the last path segment of the CSMS URL",
        rule("1 to 48 printable characters without '/'", _printable_id),
    )
    vendor: str = declared(
        "pievse",
        "BootNotification chargePointVendor",
        rule("1 to 20 characters", lambda v: 0 < len(v) <= 20),
        note="BootNotification chargePointVendor",
    )
    model: str = declared(
        "",
        "chargePointModel; empty = the board's name",
        _at_most(20),
        note="empty: the board's name",
    )
    serial: str = declared(
        "",
        "charge point and charge box serial number; empty = the id",
        _at_most(25),
        note="empty: the charge point id",
    )
    meter_serial: str = declared("", "BootNotification meterSerialNumber", _at_most(25))


@dataclass(frozen=True)
class OcppConfig:
    """The central system and how the link to it behaves."""

    csms_url: str = declared(
        "",
        "`ws://` or `wss://` URL of the CSMS; empty = standalone",
        _empty_or("a ws:// or wss:// URL", lambda v: v.startswith(("ws://", "wss://"))),
        note="ws:// or wss://; empty = standalone",
    )
    version: OcppVersion = declared(
        OcppVersion.V16,
        "the messages spoken (docs/ocpp201.md); `auto`: both subprotocols offered, the CSMS "
        "chooses; a box told another version than it speaks restarts into it once no session "
        "runs, and keeps it; what the CSMS set, sessions, the queue, the local list and "
        "certificates are kept when it changes",
        note='"1.6", "2.0.1" or "auto" (both offered, the CSMS chooses)',
    )
    response_timeout_s: float = declared(
        30.0,
        "how long a request to the CSMS waits for its answer",
        within(1, 300),
        note="how long to wait for the CSMS's answer to a request",
    )
    reconnect_min_s: float = declared(
        1.0,
        "first reconnect delay; it doubles per failed attempt, with random jitter, and starts "
        "over after any connection that registered, however it ended",
        within(0.1, 600),
        note="reconnect back-off: first delay, doubling up to the maximum",
    )
    reconnect_max_s: float = declared(60.0, "longest reconnect delay", within(0.1, 3600))


@dataclass(frozen=True)
class ApiConfig:
    """The local API and the page: where they listen and who may use them."""

    listen: str = declared(
        "127.0.0.1:8080",
        "local API address",
        rule("HOST:PORT", lambda v: parse_listen(v) is not None),
    )
    token: str = declared(
        "",
        "beyond loopback, every request that changes state needs `Authorization: Bearer "
        "<token>` (a wrong or missing one: 401, nothing changed); empty: one is made at the "
        "first start, kept in the database and written that once to `api-token` (mode 0600) "
        "beside the config file, or in the data directory where that cannot be written "
        "(under the unit: `/var/lib/pievse/api-token`); the log names the file, never the "
        "token",
        _empty_or("16 to 128 printable ASCII characters without spaces", _token),
        secret=True,
        note="Beyond loopback, state changes (and, unless lan_read, reading) need this token "
        'as "Authorization: Bearer <token>"; empty: one is made at the first start and '
        "written once to api-token (mode 0600) beside this file, or in the data directory; "
        "the log names it.",
    )
    lan_read: bool = declared(False, "beyond loopback, reading (`GET`) without the token too")
    allowed_hosts: str = declared(
        "",
        "comma-separated names (or addresses) besides the box's own addresses that a "
        'request\'s `Host` may carry, e.g. `"wallbox.lan, pievse.local"`; any other `Host` '
        "is refused (403)",
        rule(
            f"comma-separated host names or addresses without ports, at most {MAX_ALLOWED_HOSTS}",
            lambda v: allowed_host_names(v) is not None,
        ),
        note="Names besides its addresses that a request's Host may give the box "
        '(comma-separated, no ports), e.g. "wallbox.lan"; any other Host is refused (DNS '
        "rebinding).",
    )
    head_timeout_s: float = declared(
        10.0,
        "a connection with no request in progress (a request head still arriving, or idle "
        "after an answer) is closed after this long",
        within(1, 300),
        note="a connection with no request in progress is closed after this",
    )


@dataclass(frozen=True)
class ControlConfig:
    """The control loop's timing."""

    tick_ms: int = declared(100, "control loop period; events wake it at once", within(10, 1000))
    suspend_timeout_s: float = declared(
        6.0,
        "after the pilot stops offering, how long the EV has to answer C→B before the "
        "contactor opens under load",
        within(0, 60),
    )
    duty_hold_s: float = declared(
        5.0, "minimum time between two duty-cycle changes (IEC 61851-1)", within(0, 60)
    )
    contactor_release_s: float = declared(
        0.1,
        "after opening, when the mirror contact must read open (weld check)",
        within(0.01, 2),
    )
    fault_retry_s: float = declared(
        10.0,
        "how long state F is held after a diode fault before trying again; also the RCD "
        "self-test retry",
        within(0.05, 3600),
    )
    connection_timeout_s: float = declared(
        60.0, "how long an authorization waits for an EV to plug in", within(1, 3600)
    )
    resume_after_power_loss: bool = declared(
        False,
        "a session open at a power loss (or crash) goes on after the restart if its EV is "
        "still plugged in; otherwise it ends as `PowerLoss`",
        note="true: a session cut by a power loss goes on if the EV is still plugged in",
    )


@dataclass(frozen=True)
class LimitsConfig:
    """Fixed local limits."""

    site_max_current_a: float = declared(
        80.0, "a fixed local load limit (A per phase)", within(0, 80)
    )


@dataclass(frozen=True)
class SiteConfig:
    """Energy management: the main fuse, PV surplus, phase switching, a shared site."""

    main_fuse_a: float = declared(
        0.0,
        "the supply's main fuse (A per phase; 0 = off): the offer is what the house leaves "
        "under it on the phases the EV uses, cut at once when the house takes more",
        within(6, 1000, also=0, text="0 (off) or 6..1000"),
        note="The supply's main fuse, A per phase; 0 turns main-fuse protection off. The grid "
        "reading comes over PUT /api/site/grid.",
    )
    grid_timeout_s: float = declared(
        11.0,
        "a grid reading older than this is stale: the offer drops to the failsafe current "
        "until a fresh one comes",
        within(1, 600),
    )
    failsafe_current_a: float = declared(
        6.0, "the offer while the grid reading is stale (0 suspends)", within(6, 80, also=0)
    )
    ramp_up_a_per_s: float = declared(
        1.0, "how fast freed headroom is given back to the EV", within(0.1, 100)
    )
    hysteresis_a: float = declared(
        0.5, "headroom less than this above the limit does not raise it", within(0, 10)
    )
    mode: SiteMode = declared(
        SiteMode.FAST,
        "charging mode at start-up until `PUT /api/mode` sets another (which is kept across "
        "restarts)",
        note="fast, pv, min_pv or off; PUT /api/mode changes it (and that is kept across "
        "restarts).",
    )
    pv_enable_delay_s: float = declared(
        60.0, "how long a PV surplus must last before charging starts", within(0, 3600)
    )
    pv_disable_delay_s: float = declared(
        180.0, "how long the surplus must stay too small before charging stops", within(0, 3600)
    )
    pv_min_charge_s: float = declared(
        600.0, "the shortest PV charge once started", within(0, 86_400)
    )
    pv_hysteresis_a: float = declared(
        0.5,
        "the surplus must pass 6 A by this much to start, fall below it by this much to stop",
        within(0, 10),
    )
    pv_smoothing_s: float = declared(
        30.0, "time constant of the surplus's low pass (passing clouds)", within(0, 600)
    )
    three_phase_delay_s: float = declared(
        600.0,
        "1p→3p only after three phases could have charged this long (3p→1p waits "
        "`pv_disable_delay_s`); only boards with a phase contactor switch",
        within(0, 86_400),
        note="Boards with a [phase_contactor] switch between 1 and 3 phases (never under load).",
    )
    phase_switch_pause_s: float = declared(
        10.0,
        "how long the EV is held off after the phase contactor switched",
        within(5, 120, text="5..120 (an EV needs 5 s to re-detect its supply)"),
    )
    phase_switch_pilot: PhaseSwitchPilot = declared(
        PhaseSwitchPilot.F,
        "the pilot during that pause: `F` (-12 V) or `B1` (steady +12 V)",
        note='or "B1"',
    )
    max_phase_switches: int = declared(
        4,
        "phase switches per plug-in, at most (an EV that must re-detect its supply is not "
        "asked endlessly)",
        within(0, 100),
    )
    id: str = declared(
        "",
        "share `main_fuse_a` with the other boxes of this site over MQTT; needs `[mqtt] url` "
        "and `main_fuse_a`; empty: the box is alone on its supply",
        _empty_or("1 to 48 letters, digits, '-' or '_'", _site_id),
        note="Several boxes on one supply share main_fuse_a over MQTT (needs [mqtt] url): the "
        "same id on each.",
    )
    max_boxes: int = declared(
        8,
        "the most boxes the site will have: the failsafe share is `main_fuse_a / max_boxes` "
        "(a metered house's recent peak taken off the fuse first)",
        within(1, 1000),
        note="the failsafe share is main_fuse_a / max_boxes",
    )
    peer_timeout_s: float = declared(
        30.0, "a broker or a peer not heard this long: the failsafe", within(3, 600)
    )
    rotation_s: float = declared(
        1800.0,
        "the length of a turn when not every waiting EV can have 6 A",
        within(10, 86_400),
        note="a turn, when not every waiting EV can have 6 A",
    )
    priority: int = declared(
        0, "higher is served first (among EVs that are equally in need)", within(-100, 100)
    )
    phase_rotation: PhaseRotation = declared(
        PhaseRotation.L1L2L3,
        "the site phases this box's L1, L2, L3 are wired to",
        note="the site phases this box's L1, L2, L3 are wired to",
    )
    house_metered: bool = declared(
        False,
        "true: the supply also feeds a house, whose load the site's grid reading shows (the "
        "allocation falls back while it is stale); false: it feeds only the boxes",
        note="true: the supply feeds a house too, told from the site's grid reading",
    )
    secret: str = declared(
        "",
        "shared by the site's boxes: their messages are signed (HMAC-SHA256); a site is not "
        "shared without one unless `accept_unsigned`",
        _empty_or("16 to 128 characters", lambda v: 16 <= len(v) <= 128),
        secret=True,
        note="shared by the site's boxes: their messages are signed (needed to share)",
    )
    accept_unsigned: bool = declared(
        False,
        "true: share the site without `secret`, trusting every client of the broker with the "
        "fuse (any of them can fake claims and grid readings)",
        note="true: share without a secret; any broker client can then steer the fuse",
    )


@dataclass(frozen=True)
class MeterConfig:
    """The charger's meter: polling and what a lost meter means."""

    poll_interval_s: float = declared(1.0, "meter poll period", within(0.1, 60))
    offline_after_failures: int = declared(
        3, "consecutive failed polls before PowerMeterFailure", within(1, 100)
    )
    on_loss: MeterLossPolicy = declared(
        MeterLossPolicy.STOP,
        "`stop`: fault and open; `continue`: keep charging on the last energy value, flagged, "
        "and report PowerMeterFailure",
        note='or "continue": charging goes on with the last energy value, PowerMeterFailure '
        "reported",
    )
    overcurrent_tolerance_a: float = declared(
        2.0,
        "how far the measured current may exceed the offer before OverCurrentFailure",
        within(0, 20),
    )
    ev_response_s: float = declared(
        5.0, "after a lower offer, how long the EV may keep drawing the old one", within(0, 30)
    )


@dataclass(frozen=True)
class StandaloneConfig:
    """Charging without a central system."""

    free_vend_id_tag: str = declared(
        "",
        "charge every plug-in under this tag (standalone)",
        _at_most(20),
        note="set to charge without a card; empty = any presented tag authorizes",
    )


@dataclass(frozen=True)
class SmartChargingConfig:
    """What SetChargingProfile may ask for."""

    rate_units: RateUnits = declared(
        RateUnits.CURRENT_POWER,
        "ChargingScheduleAllowedChargingRateUnit: the charging rate units SetChargingProfile "
        "may use",
        note="ChargingScheduleAllowedChargingRateUnit",
        choices_text='"Current", "Power" or "Current,Power"',
    )
    max_stack_level: int = declared(10, "the ChargeProfileMaxStackLevel key", within(0, 100))
    max_periods: int = declared(48, "the ChargingScheduleMaxPeriods key", within(1, 1000))
    max_profiles: int = declared(20, "the MaxChargingProfilesInstalled key", within(1, 1000))


@dataclass(frozen=True)
class SecurityConfig:
    """The Security Whitepaper's side in the config file: profile, key, certificates."""

    profile: int = declared(
        -1,
        "Security Whitepaper profile; -1: 2 for a `wss://` URL, for `ws://` 1 with "
        "`authorization_key` and 0 (with a warning in the log) without; profiles 1 and 2 "
        "need `authorization_key`, and a profile named here that cannot be met exits 2; the "
        "CSMS may raise it (never lower it), a value changed here wins at the next start",
        within(-1, 3, text="0..3 (or -1: from the URL)"),
        note="OCPP 1.6 Security Whitepaper profile: 0 none, 1 Basic auth over ws://, 2 TLS + "
        "Basic auth, 3 TLS with a client certificate. -1: 2 for a wss:// URL; for ws://, 1 "
        "with an authorization_key and 0 (with a warning in the log) without one. The CSMS "
        "may raise it (never lower it); a value changed here wins at the next start.",
    )
    authorization_key: str = declared(
        "",
        "AuthorizationKey (the HTTP Basic password) until the CSMS sets another",
        _empty_or(AUTHORIZATION_KEY_FORMS, valid_authorization_key),
        secret=True,
        note="AuthorizationKey until the CSMS sets one: 32..40 hex digits (the bytes are the "
        "password) or a plaintext password of 16..20 printable ASCII characters.",
    )
    cpo_name: str = declared(
        "",
        "CpoName: O= of the certificate signing request",
        _at_most(64),
        note="CpoName: O= of the certificate signing request",
    )
    csms_url_tls: str = declared(
        "",
        "the `wss://` URL for profiles 2 and 3; empty: `csms_url` if it is `wss://`, else "
        "`csms_url` with `wss://` (same host and port)",
        _empty_or("a wss:// URL", lambda v: v.startswith("wss://")),
        note="wss:// URL for profiles 2 and 3; empty: csms_url with wss://",
    )
    central_system_root_certificate: str = declared(
        "",
        "a PEM file of CentralSystemRootCertificate(s) installed at start (first trust for "
        "profile 2)",
        note="PEM file installed at start (first trust for profile 2)",
    )
    manufacturer_root_certificate: str = declared(
        "",
        "a PEM file of ManufacturerRootCertificate(s) installed at start: they verify signed "
        "firmware (docs/security.md)",
        note="PEM file: verifies signed firmware",
    )
    charge_point_certificate: str = declared(
        "",
        "a factory-provisioned client certificate chain (PEM) for profile 3, with "
        "`charge_point_key`; copied into the data directory once",
        note="factory client certificate chain (PEM) for profile 3 ...",
    )
    charge_point_key: str = declared(
        "",
        "the private key (PEM) of `charge_point_certificate`",
        note="... and its private key; copied into the data directory once",
    )
    additional_root_certificate_check: bool = declared(
        False,
        "AdditionalRootCertificateCheck: a new Central System root must be signed by the "
        "installed one",
    )
    certificate_store_max_length: int = declared(
        20, "CertificateStoreMaxLength: the most certificates installed", within(1, 100)
    )
    upgrade_attempts: int = declared(
        3,
        "failed connections with a new profile or key before the old ones come back",
        within(1, 100),
        note="failed connections with a new profile or key before falling back",
    )
    security_log_max_entries: int = declared(
        1000, "the security log's length, oldest entries dropped first", within(10, 100_000)
    )

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
    """Signed A/B firmware updates."""

    install_root: str = declared(
        "/opt/pievse",
        "where releases live (`releases/<version>`, `current`, `previous`)",
        rule("an absolute path", lambda v: v.startswith("/")),
        note="releases/<version>/, current, previous (deploy/install.sh)",
    )
    verify_timeout_s: float = declared(
        300.0,
        "a new release must register (BootNotification Accepted) this soon, or it is rolled back",
        within(5, 3600),
        note="a new release must register this soon, or it is rolled back",
    )
    retries: int = declared(
        3,
        "download and upload attempts after the first, when the CSMS gives none",
        within(0, 100),
        note="download/upload attempts after the first when the CSMS gives none",
    )
    retry_interval_s: int = declared(
        60, "the wait between those attempts, when the CSMS gives none", within(0, 86_400)
    )
    max_bundle_mb: int = declared(
        300,
        "the size cap: a bundle larger (by its Content-Length or as it comes) is refused",
        within(1, 4096),
        note="the size cap: larger bundles are refused before they come",
    )
    download_deadline_s: float = declared(
        3600.0,
        "each file of a download (the bundle, its signature, its certificate) not complete "
        "this soon fails the attempt, however the server paces its bytes",
        within(1, 86_400),
        note="a download not complete this soon fails (slow servers)",
    )
    allow_unsigned: bool = declared(
        False,
        "only while no ManufacturerRootCertificate is provisioned: install bundles nobody "
        "signed. Anyone who can reach the CSMS, the firmware server or the path between runs "
        "code on the box; never settable over OCPP (see docs/security.md)",
        note="Only while no manufacturer_root_certificate is provisioned: install bundles "
        "nobody signed. Anyone who can reach the CSMS or the firmware server then runs code "
        "on the box.",
    )


@dataclass(frozen=True)
class MqttConfig:
    """The MQTT bridge and Home Assistant discovery."""

    url: str = declared(
        "",
        "the broker (TLS with `mqtts://`, default ports 1883/8883); empty: no MQTT. Needs "
        "`pip install 'pievse[mqtt]'`",
        _empty_or(
            "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", lambda v: parse_mqtt_url(v) is not None
        ),
        note="mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; empty: no MQTT (pip install "
        "'pievse[mqtt]').",
    )
    username: str = declared("", "the broker login's user name")
    password: str = declared(
        "",
        "the broker login's password, never logged",
        secret=True,
        note="never logged, never shown by pievse config",
    )
    ca_file: str = declared(
        "",
        "for `mqtts://`: the CA of the broker's certificate; empty: the system's",
        note="mqtts: the broker's CA; empty: the system's",
    )
    topic_prefix: str = declared(
        "pievse",
        "the box's topics are `<topic_prefix>/<charge point id>/...`",
        rule("1 to 64 characters without +, # or a leading or trailing /", _topic_prefix),
        note="topics: <topic_prefix>/<charge point id>/state, availability, set/...",
    )
    discovery_prefix: str = declared(
        "homeassistant",
        "Home Assistant discovery prefix; empty: no discovery",
        rule(
            "empty, or up to 64 characters without +, #",
            lambda v: len(v) <= 64 and not set(v) & {"+", "#"},
        ),
        note="empty: no Home Assistant discovery",
    )
    state_interval_s: float = declared(
        30.0,
        "the state is published on change (checked twice a second) and at least this often",
        within(1, 3600),
    )
