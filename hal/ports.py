"""Ports: the primitives hardware offers, each as small as gpiozero's Pin.

Devices are built only from these, so the simulated bench (which implements ports, not
devices) runs the very device code a Raspberry Pi runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

EdgeCallback = Callable[[bool], None]
"""Called with the new level; may run on a thread other than the asyncio loop's."""


class DigitalOut(Protocol):
    def write(self, level: bool) -> None: ...


class DigitalIn(Protocol):
    def read(self) -> bool: ...

    def on_edge(self, callback: EdgeCallback) -> None: ...


class PwmOut(Protocol):
    """A PWM generator; duty 1.0 is a steady high level, 0.0 a steady low level."""

    def set(self, frequency_hz: float, duty_fraction: float) -> None: ...


class AnalogIn(Protocol):
    def read_volts(self) -> float: ...


class RegisterBus(Protocol):
    """Modbus-style register access; raises RegisterBusError on any failed transaction."""

    async def read_registers(
        self, function_code: int, address: int, count: int, device_id: int
    ) -> list[int]: ...

    async def close(self) -> None: ...


class ByteLink(Protocol):
    async def read(self, max_bytes: int) -> bytes: ...

    def write(self, data: bytes) -> None: ...


BUS_ERROR_KINDS = ("timeout", "crc", "exception", "connection")


class RegisterBusError(Exception):
    """A register transaction failed; `kind` is one of BUS_ERROR_KINDS, for counting."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class HardwareUnavailable(RuntimeError):
    """A real port cannot reach its hardware: the message names the pin, bus or device and
    what to enable or install. Drivers raise it instead of falling back to anything."""


class I2cBus(Protocol):
    """Register reads and writes of the chips on one I2C bus."""

    def read(self, address: int, register: int, length: int) -> bytes: ...

    def write(self, address: int, register: int, data: bytes) -> None: ...

    def probe(self, address: int, register: int, chip: str) -> None:
        """Raises HardwareUnavailable, naming `chip`, when nothing answers at `address`."""
        ...
