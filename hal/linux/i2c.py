"""An I2C bus (/dev/i2c-N) through smbus2, shared by the chips on it; one transfer at a time."""

from __future__ import annotations

import errno
import threading

from smbus2 import SMBus

from pievse.hal.ports import HardwareUnavailable


class I2cBus:
    def __init__(self, bus: int = 1) -> None:
        self.name = f"/dev/i2c-{bus}"
        try:
            self._bus = SMBus(bus)
        except FileNotFoundError as exc:
            raise HardwareUnavailable(
                f"no I2C bus {self.name}: enable I2C (sudo raspi-config nonint do_i2c 0, "
                "or dtparam=i2c_arm=on) and reboot"
            ) from exc
        except PermissionError as exc:
            raise HardwareUnavailable(
                f"no permission on {self.name}: add the service user to the i2c group"
            ) from exc
        self._lock = threading.Lock()

    def read(self, address: int, register: int, length: int) -> bytes:
        with self._lock:
            return bytes(self._bus.read_i2c_block_data(address, register, length))

    def write(self, address: int, register: int, data: bytes) -> None:
        with self._lock:
            self._bus.write_i2c_block_data(address, register, list(data))

    def probe(self, address: int, register: int, chip: str) -> None:
        """Reads one register so a missing chip fails at start-up, naming itself."""
        try:
            self.read(address, register, 2)
        except OSError as exc:
            missing = exc.errno in (errno.EREMOTEIO, errno.ENXIO, errno.EIO)
            why = "no answer" if missing else str(exc)
            raise HardwareUnavailable(
                f"{chip} at {address:#04x} on {self.name}: {why} "
                "(check its power, wiring and address pins)"
            ) from exc
