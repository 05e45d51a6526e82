"""Ports bound to named plant signals; the board file says which signal each port carries."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from pievse.hal.modbus import ModbusTcpBus
from pievse.hal.ports import EdgeCallback
from pievse.hal.register_map import RegisterMap
from pievse.hal.sim.meter_emulator import MeterEmulator
from pievse.hal.sim.meter_line import MeterLine
from pievse.hal.sim.plant import ANALOG_INPUTS, DIGITAL_INPUTS, DIGITAL_OUTPUTS, Plant


def _check(signal: str, known: tuple[str, ...], kind: str) -> str:
    if signal not in known:
        raise ValueError(f"no simulated {kind} signal {signal!r}; known: {', '.join(known)}")
    return signal


class SimDigitalOut:
    def __init__(self, plant: Plant, signal: str) -> None:
        self._plant = plant
        self._signal = _check(signal, DIGITAL_OUTPUTS, "digital output")

    def write(self, level: bool) -> None:
        self._plant.set_output(self._signal, level)


class SimDigitalIn:
    def __init__(self, plant: Plant, signal: str) -> None:
        self._plant = plant
        self._signal = _check(signal, DIGITAL_INPUTS, "digital input")

    def read(self) -> bool:
        return self._plant.read_input(self._signal)

    def on_edge(self, callback: EdgeCallback) -> None:
        self._plant.watch(self._signal, callback)


class SimPwmOut:
    def __init__(self, plant: Plant, signal: str = "pilot") -> None:
        _check(signal, ("pilot",), "PWM")
        self._plant = plant

    def set(self, frequency_hz: float, duty_fraction: float) -> None:
        if not 0.0 <= duty_fraction <= 1.0:
            raise ValueError(f"duty fraction must be 0..1, got {duty_fraction}")
        self._plant.set_pilot_duty(duty_fraction)


class SimAnalogIn:
    def __init__(self, plant: Plant, signal: str) -> None:
        self._plant = plant
        self._signal = _check(signal, ANALOG_INPUTS, "analog input")

    def read_volts(self) -> float:
        return self._plant.read_analog(self._signal)


class PlantMeter:
    """The plant as the emulated meter's source of values and of bench faults."""

    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def values(self) -> dict[str, float]:
        return self._plant.meter_values()

    def fault(self) -> str | None:
        return self._plant.meter_fault()


class PlantGridMeter:
    """The plant's site as a grid meter's source: absent (an exception reply, as a gateway
    gives for a unit that does not answer) until the bench or the board gives it a site."""

    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def values(self) -> dict[str, float]:
        return self._plant.grid_meter_values()

    def fault(self) -> str | None:
        return None if self._plant.site.active else "exception"


class EmulatedMeterBus:
    """Modbus TCP, through the real client, to a meter emulator on loopback that the plant
    drives, so the bench always has the real driver and a real server on the path.

    On its own, the box's emulator starts its own server on the first read, in the
    controller's event loop, on a free port. A box of a fleet is handed the fleet's `line`
    instead: its meters take places on one of the few servers every box of the process
    shares, and the bus asks for them under their unit ids there.
    """

    def __init__(
        self,
        plant: Plant,
        register_map: RegisterMap,
        device_id: int = 1,
        timeout_s: float = 0.5,
        energy_file: Path | None = None,
        grid_device_id: int | None = None,
        line: MeterLine | None = None,
    ) -> None:
        """`grid_device_id`: a grid meter of the same map on the same line, reading the
        plant's site (house, PV and the EV together)."""
        # The box reads this meter at every poll: counting between reads as well would cost
        # a fleet of thousands of boxes a wake-up each second each, for nothing.
        meters = [
            MeterEmulator(
                register_map, PlantMeter(plant), device_id, energy_file, count_every_s=None
            )
        ]
        if grid_device_id is not None:
            meters.append(
                MeterEmulator(
                    register_map, PlantGridMeter(plant), grid_device_id, count_every_s=None
                )
            )
        self._meters = meters
        self._seat = None if line is None else line.seat(meters)
        if self._seat is None:
            for companion in meters[1:]:
                meters[0].share_line(companion)
        self._timeout_s = timeout_s
        self._bus: ModbusTcpBus | None = None

    async def read_registers(
        self, function_code: int, address: int, count: int, device_id: int
    ) -> list[int]:
        if self._bus is None:
            self._bus = ModbusTcpBus(*await self._serving(), self._timeout_s)
        if self._seat is not None:
            device_id = self._seat.unit_on_line(device_id)
        return await self._bus.read_registers(function_code, address, count, device_id)

    async def _serving(self) -> tuple[str, int]:
        if self._seat is None:
            return await self._meters[0].start_tcp("127.0.0.1", 0)
        return await self._seat.address()

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.close()
            self._bus = None
            if self._seat is None:
                await self._meters[0].stop()
        if self._seat is not None:
            self._seat.leave()
            for meter in self._meters:
                meter.energy_wh()  # kept in its energy file, as its own server's stop keeps it


class SimByteLink:
    """The serial line of a tag reader: the plant writes a line when a card is presented."""

    def __init__(self, plant: Plant, signal: str = "rfid") -> None:
        _check(signal, ("rfid",), "byte link")
        self._pending = bytearray()
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Event | None = None
        self._plant = plant
        plant.add_tag_sink(self._receive)

    def _receive(self, data: bytes) -> None:
        with self._guard:
            self._pending.extend(data)
        if self._loop is not None and self._ready is not None:
            self._loop.call_soon_threadsafe(self._ready.set)

    async def read(self, max_bytes: int) -> bytes:
        if self._ready is None:
            self._loop = asyncio.get_running_loop()
            self._ready = asyncio.Event()
        while True:
            if self._plant.reader_failed():
                raise OSError("tag reader does not answer (bench fault)")
            with self._guard:
                if self._pending:
                    chunk = bytes(self._pending[:max_bytes])
                    del self._pending[:max_bytes]
                    return chunk
                self._ready.clear()
            # A bench "reader" fault wakes it too (the plant sends its sinks nothing): a
            # fleet's thousand readers must not poll for it.
            await self._ready.wait()

    def write(self, data: bytes) -> None:
        """The bench reader takes no commands."""
