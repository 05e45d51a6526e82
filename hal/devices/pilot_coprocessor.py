"""The pilot co-processor (an RP2040 running board/pilot_firmware) on a serial line.

One link, three devices: the co-processor generates and samples the pilot, holds its own
contactor-enable output and watches the RCD, and drops the contactor by itself (EV left C/D,
RCD trip, missing diode, host heartbeats stopped), so safety does not depend on Linux. The
host side here speaks `hal/pilot_protocol.py`, the same file the co-processor runs.

`PilotCoprocessor` is the port: it opens the line, checks the protocol version in a
handshake at start-up (no answer or another version fails loudly, naming the device and the
fix), then reads status frames from the event loop. `CoprocessorPilot`, `...Contactor` and
`...Rcd` are the devices built on it. Heartbeats go out with every control step
(`keep_alive`); a status older than `stale_s` means the co-processor is gone, and every
reading raises until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import select
import time
from collections.abc import Callable
from dataclasses import dataclass

from serial import SerialException

from pievse.hal import pilot_protocol as proto
from pievse.hal.interfaces import Listener, PilotSample, PilotState
from pievse.hal.linux.serial_link import open_serial
from pievse.hal.ports import HardwareUnavailable

log = logging.getLogger(__name__)
RCD_TEST_SETTLE_S = 0.1


class CoprocessorError(RuntimeError):
    """The co-processor stopped answering: the controller treats it as an internal fault."""


@dataclass(frozen=True)
class CoprocessorStatus:
    state: str
    high_v: float
    low_v: float
    duty_permille: int
    flags: int
    trip: int
    bad_frames: int
    lost_frames: int
    received_at: float

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


class PilotCoprocessor:
    def __init__(
        self,
        device: str,
        baudrate: int = 115200,
        handshake_s: float = 2.0,
        stale_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self._serial = open_serial(device, baudrate)
        self._monotonic = monotonic
        self._stale_s = stale_s
        self._reader = proto.FrameReader()
        self._seq = 0
        self._status: CoprocessorStatus | None = None
        self._hello: bytes | None = None
        self._listeners: list[Listener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.wanted_duty = proto.DUTY_STEADY_HIGH
        self.firmware_version = ""
        self._handshake(handshake_s, baudrate)

    # --- the link ---------------------------------------------------------------------------

    def send(self, kind: int, payload: bytes = b"") -> None:
        self._seq = (self._seq + 1) & 0xFF
        self._serial.write(proto.encode(self._seq, kind, payload))

    def _handshake(self, timeout_s: float, baudrate: int) -> None:
        """Safe state first (contactor open, steady +12 V), then the versions must match."""
        self.send(proto.SET_CONTACTOR, b"\x00")
        self.set_duty(proto.DUTY_STEADY_HIGH)
        self.send(proto.HELLO, bytes([proto.PROTOCOL_VERSION]))
        deadline = time.monotonic() + timeout_s
        while self._hello is None or self._status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._serial.close()
                raise HardwareUnavailable(
                    f"no answer from the pilot co-processor on {self.device} at {baudrate} "
                    f"baud: is it flashed (pievse flash-pilot {self.device}) and wired (TX to "
                    "RX, RX to TX, common ground)?"
                )
            if select.select([self._serial.fileno()], [], [], remaining)[0]:
                self._receive(self._serial.read(4096))
        version, firmware = self._hello[0], self._hello[1:].decode("ascii", "replace")
        if version != proto.PROTOCOL_VERSION:
            self._serial.close()
            raise HardwareUnavailable(
                f"the pilot co-processor on {self.device} speaks protocol {version} (firmware "
                f"{firmware}), this pievse speaks {proto.PROTOCOL_VERSION}: "
                f"pievse flash-pilot {self.device}"
            )
        self.firmware_version = firmware
        log.info("pilot co-processor on %s: firmware %s", self.device, firmware)

    def _receive(self, data: bytes) -> None:
        changed = False
        for _seq, kind, payload in self._reader.feed(data):
            if kind == proto.HELLO_ACK and payload:
                self._hello = bytes(payload)
            elif kind == proto.STATUS and len(payload) == proto.STATUS_SIZE:
                changed |= self._new_status(payload)
        if changed:
            for listener in self._listeners:
                listener()

    def _new_status(self, payload: bytes) -> bool:
        state, high, low, duty, flags, trip, bad, lost = proto.parse_status(payload)
        before = self._status
        status = CoprocessorStatus(
            state, high / 1000, low / 1000, duty, flags, trip, bad, lost, self._monotonic()
        )
        self._status = status
        if trip != proto.TRIP_NONE and (before is None or before.trip != trip):
            log.warning("pilot co-processor dropped the contactor: %s", proto.TRIP_NAMES[trip])
        if duty != self.wanted_duty and not status.has(proto.FLAG_HOST_LOST):
            self.set_duty(self.wanted_duty)  # it reset, or lost us for a while: tell it again
        return before is None or (before.state, before.flags, before.trip) != (state, flags, trip)

    def _readable(self) -> None:
        try:
            data = self._serial.read(4096)
        except (OSError, SerialException) as exc:
            # Reading stops: the status goes stale, every reading raises (an internal fault,
            # contactor open), and the co-processor, without heartbeats, goes safe by itself.
            log.error("pilot co-processor line %s failed: %s", self.device, exc)
            if self._loop is not None:
                self._loop.remove_reader(self._serial.fileno())
            return
        if data:
            self._receive(data)

    def watch(self, listener: Listener) -> None:
        """Status changes call `listener` on the event loop; reading starts with the first."""
        self._listeners.append(listener)
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._serial.fileno(), self._readable)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._serial.fileno())
            self._loop = None
        self._serial.close()

    # --- what the devices use -----------------------------------------------------------------

    def status(self) -> CoprocessorStatus:
        status = self._status
        assert status is not None  # the handshake waited for one
        age = self._monotonic() - status.received_at
        if age > self._stale_s:
            raise CoprocessorError(
                f"no status from the pilot co-processor on {self.device} for {age:.1f} s"
            )
        return status

    def set_duty(self, permille: int) -> None:
        self.wanted_duty = permille
        self.send(proto.SET_PILOT, permille.to_bytes(2, "big"))

    @property
    def counters(self) -> dict[str, int]:
        """Frames the host dropped (bad CRC) or missed, and what the co-processor reports."""
        status = self._status
        return {
            "bad_frames_received": self._reader.bad_frames,
            "frames_lost": self._reader.lost_frames,
            "bad_frames_at_coprocessor": 0 if status is None else status.bad_frames,
            "frames_lost_at_coprocessor": 0 if status is None else status.lost_frames,
        }


class CoprocessorPilot:
    def __init__(self, coprocessor: PilotCoprocessor) -> None:
        self._co = coprocessor

    def set_duty(self, duty_percent: float) -> None:
        if not 10.0 <= duty_percent <= 97.0:
            raise ValueError(f"pilot duty must be 10..97 %, got {duty_percent}")
        self._co.set_duty(round(duty_percent * 10))

    def set_steady_high(self) -> None:
        if self._co.wanted_duty != proto.DUTY_STEADY_HIGH:
            self._co.set_duty(proto.DUTY_STEADY_HIGH)

    def set_state_f(self) -> None:
        if self._co.wanted_duty != proto.DUTY_STATE_F:
            self._co.set_duty(proto.DUTY_STATE_F)

    def sample(self) -> PilotSample:
        status = self._co.status()
        return PilotSample(
            PilotState(status.state),
            status.high_v,
            status.low_v,
            status.has(proto.FLAG_PWM_ACTIVE),
            status.has(proto.FLAG_DIODE_OK),
        )

    def on_change(self, listener: Listener) -> None:
        self._co.watch(listener)


class CoprocessorContactor:
    """The co-processor's enable output: it closes only when its own rules allow."""

    closes_only_with_ev = True

    def __init__(self, coprocessor: PilotCoprocessor) -> None:
        self._co = coprocessor
        self._commanded = False

    def close(self) -> None:
        self._commanded = True
        self._co.send(proto.SET_CONTACTOR, b"\x01")

    def open(self) -> None:
        self._commanded = False
        self._co.send(proto.SET_CONTACTOR, b"\x00")

    @property
    def commanded_closed(self) -> bool:
        return self._commanded

    def is_closed(self) -> bool:
        return self._co.status().has(proto.FLAG_CONTACTOR_CLOSED)

    def on_change(self, listener: Listener) -> None:
        self._co.watch(listener)

    def keep_alive(self) -> None:
        self._co.send(proto.HEARTBEAT)


class CoprocessorRcd:
    def __init__(self, coprocessor: PilotCoprocessor) -> None:
        self._co = coprocessor

    def tripped(self) -> bool:
        return self._co.status().has(proto.FLAG_RCD_TRIPPED)

    def on_change(self, listener: Listener) -> None:
        self._co.watch(listener)

    async def self_test(self) -> bool:
        """The co-processor injects the test current: the module must trip, then release."""
        self._co.send(proto.RCD_TEST, b"\x01")
        try:
            await asyncio.sleep(RCD_TEST_SETTLE_S)
            tripped_under_test = self.tripped()
        finally:
            self._co.send(proto.RCD_TEST, b"\x00")
        await asyncio.sleep(RCD_TEST_SETTLE_S)
        return tripped_under_test and not self.tripped()
