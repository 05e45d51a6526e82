"""Device interfaces the controller talks to, and the records they report.

The controller (`firmware`) imports only this module from `hal`: it never learns which
driver sits behind a device. Commands on the safety path are synchronous and return at
once; only bus reads that take milliseconds are `async`. Devices report what they measure,
never what was commanded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

Listener = Callable[[], None]
"""Called when a device's input changes; may run on any thread, so it must only hand over."""

PhaseValues = tuple[float | None, float | None, float | None]


class PilotState(StrEnum):
    """IEC 61851-1 control pilot states as seen from the EVSE (by the high level)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


@dataclass(frozen=True)
class PilotSample:
    state: PilotState
    high_v: float
    low_v: float
    pwm_active: bool
    diode_ok: bool
    """False when the PWM's low level is not near -12 V; only judged while the PWM runs."""


class Pilot(Protocol):
    def set_duty(self, duty_percent: float) -> None: ...

    def set_steady_high(self) -> None: ...

    def set_state_f(self) -> None: ...

    def sample(self) -> PilotSample: ...

    def on_change(self, listener: Listener) -> None: ...


class CableSense(Protocol):
    def rating_a(self) -> float | None:
        """Current rating the plugged cable's PP resistor encodes; None when no cable."""
        ...


class CableFault(Exception):
    """The proximity circuit reads a value no IEC 61851 cable has (short or broken resistor)."""


class Contactor(Protocol):
    def close(self) -> None: ...

    def open(self) -> None: ...

    @property
    def commanded_closed(self) -> bool: ...

    def is_closed(self) -> bool:
        """The measured state (mirror contact), not the command."""
        ...

    def on_change(self, listener: Listener) -> None: ...

    def keep_alive(self) -> None:
        """Called every control step. Where the coil is held by a retriggerable monostable
        or by a co-processor's heartbeat watchdog, the contactor drops by itself when these
        calls stop: a hung or killed controller never leaves power on."""
        ...


class ResidualCurrentMonitor(Protocol):
    def tripped(self) -> bool: ...

    def on_change(self, listener: Listener) -> None: ...

    async def self_test(self) -> bool: ...


class Thermometer(Protocol):
    trip_c: float
    resume_c: float

    def read_c(self) -> float: ...

    def alert_active(self) -> bool:
        """The sensor's own over-temperature output (hardware comparator), if it has one."""
        ...

    def on_change(self, listener: Listener) -> None: ...


class EvStateOfCharge(Protocol):
    """The EV's battery level, where the EV interface carries it (IEC 61851 PWM alone does
    not; ISO 15118 or a bench EV does)."""

    def soc_percent(self) -> float | None:
        """None while no EV reports one."""
        ...


class ConnectorLock(Protocol):
    def lock(self) -> None: ...

    def unlock(self) -> None: ...

    def is_locked(self) -> bool: ...


class TamperSwitch(Protocol):
    """The enclosure's lid switch: opened while the box is live exposes mains."""

    def opened(self) -> bool: ...

    def on_change(self, listener: Listener) -> None: ...


class IdTagReader(Protocol):
    async def next_tag(self) -> str: ...


class StatusLed(Protocol):
    def show(self, colour: str) -> None:
        """One of "off", "green", "blue", "yellow", "red"."""
        ...


@dataclass(frozen=True)
class Measurements:
    """One meter poll. A field is None where the meter lacks that register."""

    timestamp: datetime
    voltage_v: PhaseValues
    current_a: PhaseValues
    power_phase_w: PhaseValues
    power_factor_phase: PhaseValues
    power_w: float | None
    power_factor: float | None
    frequency_hz: float | None
    energy_import_wh: float | None


class EnergyMeter(Protocol):
    measurands: frozenset[str]
    """The OCPP measurands its register map reads (a poll may still leave one None)."""

    async def poll(self) -> Measurements: ...

    async def close(self) -> None: ...


METER_ERROR_KINDS = ("timeout", "crc", "exception", "connection", "implausible")


class MeterError(Exception):
    """A poll failed or returned implausible values; `kind` (one of METER_ERROR_KINDS) is
    what the controller counts."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class BenchControl(Protocol):
    """What a test bench may change on a simulated board (the plant), never on real hardware."""

    def set_ev(self, state: str, max_current_a: float | None, phases: int | None) -> None: ...

    def present_tag(self, id_tag: str) -> None: ...

    def set_fault(self, fault: str, active: bool) -> None: ...

    def set_temperature(self, celsius: float) -> None: ...

    def ev_status(self) -> dict[str, object]: ...


BENCH_FAULTS = (
    "rcd",
    "overtemperature",
    "meter_offline",
    "meter_exception",
    "meter_implausible",
    "contactor_weld",
    "diode",
    "contactor_stuck_open",
    "lock",
    "reader",
    "tamper",
)


@dataclass(frozen=True)
class Ratings:
    max_current_a: float
    phases: int
    nominal_voltage_v: float
    frequency_hz: float


@dataclass(frozen=True)
class Board:
    """Everything the controller may drive, assembled from a board file."""

    name: str
    ratings: Ratings
    pilot: Pilot
    contactor: Contactor
    rcd: ResidualCurrentMonitor
    thermometer: Thermometer
    derating: tuple[tuple[float, float], ...]
    """(above_c, max_current_a) steps, lowest temperature first."""
    meter: EnergyMeter
    outlet_thermometer: Thermometer | None = None
    """A sensor at the socket outlet or cable connection, where the board has one."""
    ev_soc: EvStateOfCharge | None = None
    cable: CableSense | None = None
    lock: ConnectorLock | None = None
    tag_reader: IdTagReader | None = None
    led: StatusLed | None = None
    tamper: TamperSwitch | None = None
    bench: BenchControl | None = None
    meter_model: str = ""
    """The meter's register map name (BootNotification meterType)."""
