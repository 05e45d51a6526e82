"""Serial lines through pyserial: opened with a clear error, read without blocking the loop."""

from __future__ import annotations

import asyncio

import serial

from pievse.hal.ports import HardwareUnavailable

PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


def open_serial(device: str, baudrate: int, parity: str = "N", stop_bits: int = 1) -> serial.Serial:
    """Non-blocking reads (timeout 0); a write that cannot finish in a second fails."""
    if parity not in PARITIES:
        raise ValueError(f"parity: expected one of {', '.join(PARITIES)}, got {parity!r}")
    if stop_bits not in (1, 2):
        raise ValueError(f"stop_bits: expected 1 or 2, got {stop_bits}")
    try:
        return serial.Serial(
            device,
            baudrate,
            parity=PARITIES[parity],
            stopbits=stop_bits,
            timeout=0,
            write_timeout=1.0,
        )
    except (serial.SerialException, ValueError) as exc:
        raise HardwareUnavailable(
            f"serial device {device}: {exc} (on a Pi enable the UART with enable_uart=1; "
            "a USB adapter needs its udev rule, see deploy/)"
        ) from exc


class SerialByteLink:
    def __init__(
        self, device: str, baudrate: int = 115200, parity: str = "N", stop_bits: int = 1
    ) -> None:
        self._serial = open_serial(device, baudrate, parity, stop_bits)

    async def read(self, max_bytes: int) -> bytes:
        while True:
            data: bytes = self._serial.read(max_bytes)
            if data:
                return data
            await _readable(self._serial.fileno())

    def write(self, data: bytes) -> None:
        self._serial.write(data)


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, _settle, ready)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
