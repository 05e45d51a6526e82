"""Every key of the config file, declared once: its type, default, check, secrecy and what
it does. The loader, `pievse config`, the README's key table and the example file are all
derived from these classes and those of `site_sections.py` and `trust_sections.py` (by
the package and `docs.py`); after adding or changing a key,
`python -m pievse.firmware.config.docs README.md deploy/pievse.example.toml` rewrites both
(a test fails until it has).

The README's "values" column comes from each key's check, so a doc says what the key does,
not its bounds. This module is data: tables of declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pievse.firmware.config.values import MAX_ALLOWED_HOSTS, allowed_host_names, parse_listen
from pievse.hal.declared import at_most, declared, empty_or, rule, within


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"
    AUTO = "auto"


class MeterLossPolicy(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"


class RateUnits(StrEnum):
    CURRENT = "Current"
    POWER = "Power"
    CURRENT_POWER = "Current,Power"
    POWER_CURRENT = "Power,Current"


def _printable_id(v: str) -> bool:
    return 0 < len(v) <= 48 and v.isprintable() and "/" not in v


def _token(v: str) -> bool:
    return 16 <= len(v) <= 128 and v.isascii() and v.isprintable() and " " not in v


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
        at_most(20),
        note="empty: the board's name",
    )
    serial: str = declared(
        "",
        "charge point and charge box serial number; empty = the id",
        at_most(25),
        note="empty: the charge point id",
    )
    meter_serial: str = declared("", "BootNotification meterSerialNumber", at_most(25))


@dataclass(frozen=True)
class OcppConfig:
    """The central system and how the link to it behaves."""

    csms_url: str = declared(
        "",
        "`ws://` or `wss://` URL of the CSMS; empty = standalone",
        empty_or("a ws:// or wss:// URL", lambda v: v.startswith(("ws://", "wss://"))),
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
        empty_or("16 to 128 printable ASCII characters without spaces", _token),
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
        at_most(20),
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
