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
from typing import Any, Protocol

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


class PilotView(Protocol):
    """What everything but the safety supervisor may do with the pilot: look."""

    def sample(self) -> PilotSample:
        """What the pilot measures now: the high level gives the state, the low level the
        diode (judged only while the PWM runs). Never what was commanded. Fast enough for
        every control step (sub-millisecond, or the last sample of a sampler that runs on)."""
        ...

    def on_change(self, listener: Listener) -> None:
        """`listener` is called (from any thread) when the measured state may have changed,
        so the loop samples at once instead of at its next tick."""
        ...


class Pilot(PilotView, Protocol):
    """The control pilot generator and its measurement (IEC 61851-1 annex A). Only the
    safety supervisor commands it (a test walks every module's calls); others hold it as a
    `PilotView`.

    Every command is synchronous, idempotent, returns in well under a millisecond and takes
    effect on the wire before it returns (or, behind a co-processor, before the next
    sample): the safety path calls it from any thread.
    """

    def set_duty(self, duty_percent: float) -> None:
        """Oscillate at 1 kHz, ±12 V, with this duty (10..96 %; the caller never asks for
        less than 10)."""
        ...

    def set_steady_high(self) -> None:
        """PWM off, steady +12 V: what the EV sees before an offer and while suspended."""
        ...

    def set_state_f(self) -> None:
        """Steady -12 V (state F): the EV must stop drawing. Wins over any later duty until
        set_duty or set_steady_high is called again."""
        ...


class CableSense(Protocol):
    def rating_a(self) -> float | None:
        """Current rating the plugged cable's PP resistor encodes; None when no cable."""
        ...


class CableFault(Exception):
    """The proximity circuit reads a value no IEC 61851 cable has (short or broken resistor)."""


class ContactorView(Protocol):
    """What everything but the safety supervisor may do with a contactor: look."""

    closes_only_with_ev: bool
    """True where the contactor's own logic (a co-processor's) closes only with an EV in
    state C or D, whatever it is told: commissioning cannot test it with no EV."""

    @property
    def commanded_closed(self) -> bool:
        """What was last commanded; the weld and stuck-open checks compare it with
        is_closed()."""
        ...

    def is_closed(self) -> bool:
        """The measured state (mirror contact), not the command."""
        ...

    def on_change(self, listener: Listener) -> None:
        """`listener` is called (from any thread) when the mirror contact changes."""
        ...


class Contactor(ContactorView, Protocol):
    """The power contactor. Only the safety supervisor commands it (a test walks every
    module's calls); others hold it as a `ContactorView`. open() may be called from any
    thread at any time."""

    def close(self) -> None:
        """Energise the coil. Synchronous, idempotent, well under a millisecond."""
        ...

    def open(self) -> None:
        """De-energise the coil. Synchronous, idempotent, well under a millisecond; must not
        raise (a failing output is found by the mirror contact, not here)."""
        ...

    def keep_alive(self) -> None:
        """Called every control step. Where the coil is held by a retriggerable monostable
        or by a co-processor's heartbeat watchdog, the contactor drops by itself when these
        calls stop: a hung or killed controller never leaves power on."""
        ...


class ResidualCurrentMonitor(Protocol):
    """The RCD / RDC-DD (30 mA AC, 6 mA DC)."""

    def tripped(self) -> bool:
        """The measured trip output now; cheap enough to read in every step."""
        ...

    def on_change(self, listener: Listener) -> None:
        """`listener` is called from the thread the edge arrives on, at once: the safety
        supervisor opens the contactor inside it."""
        ...

    async def self_test(self) -> bool:
        """Drives the test input and checks that the monitor trips and releases; True when
        it did. May take the module's settle time twice; the supervisor opens the contactor
        first and ignores the test's own trip."""
        ...


class Thermometer(Protocol):
    """An enclosure or outlet temperature sensor with its trip and resume points."""

    trip_c: float
    resume_c: float

    def read_c(self) -> float:
        """The temperature now, in °C; fast enough for every step (a cached conversion)."""
        ...

    def alert_active(self) -> bool:
        """The sensor's own over-temperature output (hardware comparator), if it has one."""
        ...

    def on_change(self, listener: Listener) -> None:
        """`listener` is called (from any thread) when the alert output changes."""
        ...


class EvStateOfCharge(Protocol):
    """The EV's battery level, where the EV interface carries it (IEC 61851 PWM alone does
    not; ISO 15118 or a bench EV does)."""

    def soc_percent(self) -> float | None:
        """None while no EV reports one."""
        ...


class ConnectorLock(Protocol):
    """The socket's cable lock (a tethered cable has none)."""

    def lock(self) -> None:
        """Drive the actuator; returns at once, is_locked() reports when it has moved."""
        ...

    def unlock(self) -> None:
        """As lock(), the other way."""
        ...

    def is_locked(self) -> bool:
        """The measured position (feedback switch), not the command."""
        ...


class TamperSwitch(Protocol):
    """The enclosure's lid switch: opened while the box is live exposes mains."""

    def opened(self) -> bool: ...

    def on_change(self, listener: Listener) -> None: ...


class IdTagReader(Protocol):
    async def next_tag(self) -> str:
        """Waits for the next card presented and returns its id; a card left on the reader
        is reported once. Raises when the reader fails: the controller reports
        ReaderFailure and calls again after a pause."""
        ...


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
    """The charger's own meter (Modbus RTU or TCP)."""

    measurands: frozenset[str]
    """The OCPP measurands its register map reads (a poll may still leave one None)."""

    async def poll(self) -> Measurements:
        """One reading of every register of the map, in as few bus transactions as the map
        allows; raises MeterError naming the kind of failure. Never retries by itself."""
        ...

    async def close(self) -> None:
        """Releases the bus; idempotent."""
        ...


METER_ERROR_KINDS = ("timeout", "crc", "exception", "connection", "implausible")


class MeterError(Exception):
    """A poll failed or returned implausible values; `kind` (one of METER_ERROR_KINDS) is
    what the controller counts."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class BenchControl(Protocol):
    """What a test bench may change on a simulated board (the plant), never on real hardware."""

    def set_ev(
        self,
        state: str,
        max_current_a: float | None,
        phases: int | None,
        ignores_phase_switch: bool | None = None,
    ) -> None:
        """`ignores_phase_switch`: the EV keeps drawing on the phases it found first in this
        plug-in, whatever the phase contactor does later."""
        ...

    def present_tag(self, id_tag: str) -> None: ...

    def set_fault(self, fault: str, active: bool) -> None: ...

    def set_temperature(self, celsius: float) -> None: ...

    def ev_status(self) -> dict[str, object]: ...

    def set_site(self, request: dict[str, Any]) -> None:
        """The site around the box its grid meter reads, as the bench API's JSON gives it:
        `{"house_a"?: [3 A], "pv_w"?: W}` live, or `{"scenario", "speed"?, "at_s"?}` (a
        scenario day played `speed` times faster from `at_s`). Raises ValueError naming a
        bad value; nothing changes then."""
        ...

    def site_status(self) -> dict[str, object]: ...


BENCH_FAULTS = (
    "rcd",
    "overtemperature",
    "meter_offline",
    "meter_exception",
    "meter_implausible",
    "meter_jump",
    "contactor_weld",
    "diode",
    "contactor_stuck_open",
    "phase_contactor_weld",
    "phase_contactor_stuck_open",
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
    grid_meter: EnergyMeter | None = None
    """The site's grid connection (house and box together), for main-fuse protection."""
    phase_contactor: Contactor | None = None
    """Switches L2 and L3 in (closed) or out (open, one phase) behind the main contactor;
    only the safety supervisor switches it, and only with the main contactor open."""
    bench: BenchControl | None = None
    meter_model: str = ""
    """The meter's register map name (BootNotification meterType)."""
