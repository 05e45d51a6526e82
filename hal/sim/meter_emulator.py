"""A Modbus energy meter emulator: any bundled register map, over TCP or RTU.

Register values are encoded with the same map rows the driver decodes with, from a source
of values: the bench plant (energy integrates the simulated current) or a load you set.
Beyond those rows it serves what the map says the meter documents (`[[served]]` registers,
`[[setting]]` holding registers, zeros across the undocumented addresses of its `[[span]]`s)
and refuses a read longer than the meter answers at once. The energy counter advances on
the emulator's own clock and persists in a small JSON file, as a real meter's does, so a
restarted bench never sees its meter run backwards. Faults are injected where a real line
produces them: no reply, a corrupted CRC, an exception reply, implausible values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pievse.hal.modbus import RegisterServer
from pievse.hal.register_map import RegisterMap, RegisterRow, plan_reads
from pievse.hal.sim.meter_energy import EnergyCounter
from pievse.hal.sim.meter_quantities import shown_values

log = logging.getLogger(__name__)

METER_FAULTS = ("timeout", "crc", "exception", "nan", "negative", "backwards", "jump")
DEVICE_FAILURE = 4
ILLEGAL_VALUE = 3
"""What a meter answers for a read longer than it serves at once (illegal data value)."""
ENERGY = "Energy.Active.Import.Register"
BACKWARDS_WH = 100.0
JUMP_WH = 1e9
"""The "jump" fault: +1 000 000 kWh on the energy register while it lasts."""
COUNT_EVERY_S = 1.0
"""The counter advances on the meter's own clock, read or not."""


class MeterSource(Protocol):
    def values(self) -> dict[str, float]:
        """Values keyed "measurand" or "measurand/phase"; raises TimeoutError when the meter
        cannot answer."""
        ...

    def fault(self) -> str | None:
        """A fault the source itself imposes (the plant's bench faults), if any."""
        ...


class SetLoad:
    """A load you set: per-phase current on `phases` phases; energy integrates the power."""

    def __init__(
        self,
        phases: int = 3,
        voltage_v: float = 230.0,
        frequency_hz: float = 50.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._guard = threading.Lock()
        self.current_a = 0.0
        self.phases = phases
        self.voltage_v = voltage_v
        self.power_factor = 1.0
        self.frequency_hz = frequency_hz
        self.energy_wh = 0.0
        self._since = monotonic()
        self.set(phases=phases, voltage_v=voltage_v, frequency_hz=frequency_hz)

    def set(
        self,
        current_a: float | None = None,
        phases: int | None = None,
        voltage_v: float | None = None,
        power_factor: float | None = None,
        frequency_hz: float | None = None,
    ) -> None:
        """Raises ValueError naming the first value out of range; nothing changes then."""
        checks = (
            ("current_a", current_a, 0.0, 100.0),
            ("voltage_v", voltage_v, 0.0, 500.0),
            ("power_factor", power_factor, 0.0, 1.0),
            ("frequency_hz", frequency_hz, 40.0, 70.0),
        )
        for name, value, low, high in checks:
            if value is not None and not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"{name} must be {low:g}..{high:g}, got {value}")
        if phases is not None and phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, got {phases}")
        with self._guard:
            self._integrate()
            if current_a is not None:
                self.current_a = current_a
            if phases is not None:
                self.phases = phases
            if voltage_v is not None:
                self.voltage_v = voltage_v
            if power_factor is not None:
                self.power_factor = power_factor
            if frequency_hz is not None:
                self.frequency_hz = frequency_hz

    def _power_w(self) -> float:
        return self.current_a * self.voltage_v * self.power_factor * self.phases

    def _integrate(self) -> None:
        now = self._monotonic()
        self.energy_wh += self._power_w() * (now - self._since) / 3600.0
        self._since = now

    def values(self) -> dict[str, float]:
        with self._guard:
            self._integrate()
            values = {
                "Power.Active.Import": self._power_w(),
                "Power.Factor": self.power_factor,
                "Frequency": self.frequency_hz,
                ENERGY: self.energy_wh,
            }
            for i in range(3):
                on = i < self.phases
                current = self.current_a if on else 0.0
                values[f"Voltage/L{i + 1}-N"] = self.voltage_v if on else 0.0
                values[f"Current.Import/L{i + 1}"] = current
                values[f"Power.Active.Import/L{i + 1}"] = (
                    current * self.voltage_v * self.power_factor
                )
                values[f"Power.Factor/L{i + 1}"] = self.power_factor
            return values

    def fault(self) -> str | None:
        return None

    def describe(self) -> dict[str, float | int]:
        with self._guard:
            self._integrate()
            return {
                "current_a": self.current_a,
                "phases": self.phases,
                "voltage_v": self.voltage_v,
                "power_factor": self.power_factor,
                "frequency_hz": self.frequency_hz,
                "energy_wh": round(self.energy_wh, 3),
            }


class MeterEmulator:
    def __init__(
        self,
        register_map: RegisterMap,
        source: MeterSource,
        device_id: int = 1,
        energy_file: Path | None = None,
        count_every_s: float | None = COUNT_EVERY_S,
    ) -> None:
        """`count_every_s`: how often the counter advances unread (None: at reads only, for
        a meter some client reads all the time)."""
        if not 1 <= device_id <= 247:
            raise ValueError(f"device_id must be 1..247, got {device_id}")
        self.register_map = register_map
        self.device_id = device_id
        self._source = source
        self._energy = EnergyCounter(energy_file)
        self._fault: str | None = None
        self._silent = False
        self._serial = False
        self.reads = 0
        self._companions: list[MeterEmulator] = []
        self._counting: asyncio.Task[None] | None = None
        self._count_every_s = count_every_s
        self._own_server: RegisterServer | None = None

    @property
    def _server(self) -> RegisterServer:
        """Its own line, made when it first serves or shares it: an emulator a shared line
        serves (hal.sim.meter_line) never builds one."""
        if self._own_server is None:
            self._own_server = RegisterServer(
                self.device_id, self.ranges(), self.read, self.filter_reply
            )
        return self._own_server

    def ranges(self) -> list[tuple[int, int, int]]:
        """The meter's documented address space where its map declares it, else the
        driver's reads."""
        if self.register_map.spans:
            return list(self.register_map.spans)
        return [(b.function_code, b.address, b.count) for b in plan_reads(self.register_map)]

    def share_line(self, companion: MeterEmulator) -> None:
        """Serves `companion` under its own unit id on this emulator's line (a grid meter
        on the charger meter's RS485 bus); this one starts and stops both."""
        self._server.add(
            companion.device_id, companion.ranges(), companion.read, companion.filter_reply
        )
        self._companions.append(companion)

    # --- faults -------------------------------------------------------------------------

    @property
    def fault(self) -> str | None:
        return self._fault or self._source.fault()

    def set_fault(self, fault: str | None) -> None:
        """Raises ValueError for a fault this meter cannot show (its map or transport)."""
        if fault is not None and fault not in METER_FAULTS:
            raise ValueError(f"fault must be one of {', '.join(METER_FAULTS)} or null")
        if fault == "crc" and not self._serial:
            raise ValueError("fault crc needs an RTU line; Modbus TCP has no CRC")
        if fault == "nan" and not any(r.type == "float32" for r in self.register_map.rows):
            raise ValueError(f"fault nan needs float registers; {self.register_map.name} has none")
        if fault == "negative" and not self._energy_is_signed():
            raise ValueError(f"fault negative: {self.register_map.name}'s energy is unsigned")
        self._fault = fault

    def _energy_is_signed(self) -> bool:
        rows = self.register_map.rows
        return all(not r.type.startswith("uint") for r in rows if r.measurand == ENERGY)

    # --- serving ------------------------------------------------------------------------

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 502) -> tuple[str, int]:
        bound = await self._server.serve_tcp(host, port)
        self._start_counting()
        return bound

    async def start_rtu(
        self, device: str, baudrate: int = 9600, parity: str = "N", stop_bits: int = 1
    ) -> None:
        for emulator in (self, *self._companions):
            emulator._serial = True
        await self._server.serve_rtu(device, baudrate, parity, stop_bits)
        self._start_counting()

    def _start_counting(self) -> None:
        every_s = self._count_every_s
        if every_s is None:
            return

        async def count() -> None:
            while True:
                await asyncio.sleep(every_s)
                for emulator in (self, *self._companions):
                    emulator.energy_wh()

        self._counting = asyncio.get_running_loop().create_task(count(), name="meter-count")

    async def stop(self) -> None:
        if self._counting is not None:
            self._counting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._counting
            self._counting = None
        if self._own_server is not None:
            await self._own_server.stop()
        for emulator in (self, *self._companions):
            emulator.energy_wh()

    def energy_wh(self) -> float:
        """The import counter now (kept in the energy file); a silent source leaves it
        where it was."""
        with contextlib.suppress(TimeoutError):
            self._count(self._source.values())
        return self._energy.total_wh

    def _count(self, values: dict[str, float]) -> float:
        phase_w = [values.get(f"Power.Active.Import/L{i}", 0.0) for i in (1, 2, 3)]
        return self._energy.update(values.get(ENERGY, 0.0), phase_w)

    # --- the register image -------------------------------------------------------------

    async def read(self, function_code: int, address: int, count: int) -> list[int] | int:
        """Every row, served register and setting the read covers; an address inside the
        meter's space that none names reads as zero, as the meter answers it."""
        self.reads += 1
        if count > self.register_map.max_read:
            return ILLEGAL_VALUE
        fault = self.fault
        if fault == "exception":
            return DEVICE_FAILURE
        try:
            values = self.values()
        except TimeoutError:
            self._silent = True
            return [0] * count
        self._silent = False
        image: dict[int, int] = {}
        for row, value in self._covered(function_code, address, count, values):
            try:
                words = row.encode(value)
            except ValueError as exc:
                log.warning("meter emulator: register %#06x: %s", row.address, exc)
                return DEVICE_FAILURE
            for offset, word in enumerate(words):
                image[row.address + offset] = word
        return [image.get(address + i, 0) for i in range(count)]

    def _covered(
        self, function_code: int, address: int, count: int, values: dict[str, float]
    ) -> list[tuple[RegisterRow, float]]:
        nan = self.fault == "nan"
        found: list[tuple[RegisterRow, float]] = []
        for row in (*self.register_map.rows, *self.register_map.served):
            key = f"{row.measurand}/{row.phase}" if row.phase else row.measurand
            value = math.nan if nan and row.type == "float32" else values.get(key, 0.0)
            found.append((row, value))
        for row, setting in self.register_map.settings:
            found.append((row, float(self.device_id if setting == "device_id" else setting)))
        return [
            (row, value)
            for row, value in found
            if row.function_code == function_code
            and row.address < address + count
            and row.address + row.width > address
        ]

    def values(self) -> dict[str, float]:
        """What the meter shows now, faults applied; raises TimeoutError when it is silent."""
        values = dict(self._source.values())
        energy = self._count(values)
        fault = self.fault
        if fault == "negative":
            energy = -1000.0
        elif fault == "backwards":
            energy = max(0.0, energy - BACKWARDS_WH)
        elif fault == "jump":
            energy += JUMP_WH
        values[ENERGY] = energy
        return shown_values(values, self._energy.phase_wh)

    def filter_reply(self, frame: bytes) -> bytes:
        fault = self.fault
        if fault == "timeout" or self._silent:
            return b""
        if fault == "crc":
            return frame[:-1] + bytes([frame[-1] ^ 0xFF])
        return frame
