"""A Modbus energy meter emulator: any bundled register map, over TCP or RTU.

Register values are encoded with the same map rows the driver decodes with, from a source
of values: the bench plant (energy integrates the simulated current) or a load you set.
The energy counter persists in a small JSON file, as a real meter's does, so a restarted
bench never sees its meter run backwards. Faults are injected where a real line produces
them: no reply, a corrupted CRC, an exception reply, implausible values.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pievse.hal.modbus import RegisterServer
from pievse.hal.register_map import RegisterMap, plan_reads

log = logging.getLogger(__name__)

METER_FAULTS = ("timeout", "crc", "exception", "nan", "negative", "backwards", "jump")
DEVICE_FAILURE = 4
ENERGY = "Energy.Active.Import.Register"
BACKWARDS_WH = 100.0
JUMP_WH = 1e9
"""The "jump" fault: +1 000 000 kWh on the energy register while it lasts."""


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
    ) -> None:
        if not 1 <= device_id <= 247:
            raise ValueError(f"device_id must be 1..247, got {device_id}")
        self.register_map = register_map
        self.device_id = device_id
        self._source = source
        self._energy_file = energy_file
        self._base_wh = _load_energy(energy_file)
        self._last_energy_wh = self._base_wh
        self._saved_wh = self._base_wh
        self._fault: str | None = None
        self._silent = False
        self._serial = False
        self.reads = 0
        self._companions: list[MeterEmulator] = []
        self._server = RegisterServer(device_id, self._ranges(), self._read, self._filter_reply)

    def _ranges(self) -> list[tuple[int, int, int]]:
        return [(b.function_code, b.address, b.count) for b in plan_reads(self.register_map)]

    def share_line(self, companion: MeterEmulator) -> None:
        """Serves `companion` under its own unit id on this emulator's line (a grid meter
        on the charger meter's RS485 bus); this one starts and stops both."""
        self._server.add(
            companion.device_id, companion._ranges(), companion._read, companion._filter_reply
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
        return await self._server.serve_tcp(host, port)

    async def start_rtu(
        self, device: str, baudrate: int = 9600, parity: str = "N", stop_bits: int = 1
    ) -> None:
        for emulator in (self, *self._companions):
            emulator._serial = True
        await self._server.serve_rtu(device, baudrate, parity, stop_bits)

    async def stop(self) -> None:
        await self._server.stop()
        for emulator in (self, *self._companions):
            emulator._keep_last_count()

    def _keep_last_count(self) -> None:
        with contextlib.suppress(TimeoutError):  # a silent source keeps the last counter read
            self._last_energy_wh = self._base_wh + self._source.values().get(ENERGY, 0.0)
        self._save()

    def energy_wh(self) -> float:
        return self._last_energy_wh

    # --- the register image -------------------------------------------------------------

    async def _read(self, function_code: int, address: int, count: int) -> list[int] | int:
        self.reads += 1
        fault = self.fault
        if fault == "exception":
            return DEVICE_FAILURE
        try:
            values = self.values()
        except TimeoutError:
            self._silent = True
            return [0] * count
        self._silent = False
        image: dict[tuple[int, int], int] = {}
        for row in self.register_map.rows:
            key = f"{row.measurand}/{row.phase}" if row.phase else row.measurand
            value = values.get(key, 0.0)
            if fault == "nan" and row.type == "float32":
                value = math.nan
            try:
                words = row.encode(value)
            except ValueError as exc:
                log.warning("meter emulator: register %#06x: %s", row.address, exc)
                return DEVICE_FAILURE
            for offset, word in enumerate(words):
                image[(row.function_code, row.address + offset)] = word
        return [image.get((function_code, address + i), 0) for i in range(count)]

    def values(self) -> dict[str, float]:
        """What the meter shows now, faults applied; raises TimeoutError when it is silent."""
        values = dict(self._source.values())
        energy = self._base_wh + values.get(ENERGY, 0.0)
        self._last_energy_wh = energy
        self._save()
        fault = self.fault
        if fault == "negative":
            energy = -1000.0
        elif fault == "backwards":
            energy = max(0.0, energy - BACKWARDS_WH)
        elif fault == "jump":
            energy += JUMP_WH
        values[ENERGY] = energy
        return values

    def _filter_reply(self, frame: bytes) -> bytes:
        fault = self.fault
        if fault == "timeout" or self._silent:
            return b""
        if fault == "crc":
            return frame[:-1] + bytes([frame[-1] ^ 0xFF])
        return frame

    def _save(self) -> None:
        """Before a read shows a higher count, the file has it: a killed process never
        comes back with its meter below a value some client was already given."""
        if self._energy_file is None or self._last_energy_wh == self._saved_wh:
            return
        self._saved_wh = self._last_energy_wh
        tmp = self._energy_file.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"energy_wh": self._last_energy_wh}))
            os.replace(tmp, self._energy_file)
        except OSError as exc:
            log.warning("cannot save the meter's energy counter to %s: %s", self._energy_file, exc)


def _load_energy(path: Path | None) -> float:
    if path is None or not path.exists():
        return 0.0
    try:
        value = float(json.loads(path.read_text())["energy_wh"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a meter energy file ({exc})") from exc
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{path}: energy_wh must be a finite number >= 0, got {value}")
    return value
