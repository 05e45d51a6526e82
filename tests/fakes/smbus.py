"""A fake I2C bus with ADS1115 and TMP102 register behaviour, put in place of smbus2.SMBus
by the `i2c` fixture. A chip that is not there answers EREMOTEIO, as on a real bus."""

from __future__ import annotations

import errno
from collections.abc import Iterator

import pytest


class FakeAds1115:
    def __init__(self) -> None:
        self.volts = [0.0, 0.0, 0.0, 0.0]
        """Volts at AIN0..AIN3."""
        self.configs: list[int] = []
        self._channel = 0
        self._full_scale = 2.048

    def write(self, register: int, data: list[int]) -> None:
        if register == 0x01:
            word = data[0] << 8 | data[1]
            self.configs.append(word)
            self._channel = (word >> 12 & 0b111) - 0b100
            self._full_scale = {0: 6.144, 1: 4.096, 2: 2.048, 3: 1.024, 4: 0.512}[word >> 9 & 7]

    def read(self, register: int, length: int) -> list[int]:
        if register == 0x01:
            return [0x80 | 0x05, 0x83]  # conversion done
        raw = round(self.volts[self._channel] / self._full_scale * 32768)
        raw = max(-32768, min(32767, raw))
        return list((raw & 0xFFFF).to_bytes(2, "big"))[:length]


class FakeTmp102:
    def __init__(self, celsius: float = 25.0) -> None:
        self.celsius = celsius
        self.registers: dict[int, bytes] = {}

    def write(self, register: int, data: list[int]) -> None:
        self.registers[register] = bytes(data)

    def read(self, register: int, length: int) -> list[int]:
        if register == 0x00:
            raw = round(self.celsius / 0.0625) & 0xFFF
            return list((raw << 4).to_bytes(2, "big"))
        return list(self.registers.get(register, b"\x00\x00"))[:length]


class FakeBus:
    """What sits on /dev/i2c-N: chips by address."""

    def __init__(self) -> None:
        self.chips: dict[tuple[int, int], FakeAds1115 | FakeTmp102] = {}
        self.buses = {1}

    def smbus(self, bus: int) -> FakeSMBus:
        if bus not in self.buses:
            raise FileNotFoundError(errno.ENOENT, f"No such file or directory: '/dev/i2c-{bus}'")
        return FakeSMBus(self, bus)


class FakeSMBus:
    def __init__(self, bus: FakeBus, number: int) -> None:
        self._bus = bus
        self._number = number

    def _chip(self, address: int) -> FakeAds1115 | FakeTmp102:
        chip = self._bus.chips.get((self._number, address))
        if chip is None:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return chip

    def read_i2c_block_data(self, address: int, register: int, length: int) -> list[int]:
        return self._chip(address).read(register, length)

    def write_i2c_block_data(self, address: int, register: int, data: list[int]) -> None:
        self._chip(address).write(register, data)


@pytest.fixture
def i2c(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBus]:
    bus = FakeBus()
    monkeypatch.setattr("pievse.hal.linux.i2c.SMBus", bus.smbus)
    yield bus
