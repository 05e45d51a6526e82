"""ADS1115 16-bit ADC over I2C: single-shot conversions at 860 samples/s.

At most 860 samples/s cannot follow a 1 kHz pilot: the board's front end holds the positive
and the negative peak on two channels, which `hal.devices.pilot.PeakHoldPilot` reads. Each
channel is an analog-input port that scales the chip's volts back to the signal's
(signal = volts at the pin * gain + offset_v, for the front end's divider).
"""

from __future__ import annotations

import time

from pievse.hal.ports import I2cBus

REG_CONVERSION = 0x00
REG_CONFIG = 0x01
FULL_SCALES = {6.144: 0, 4.096: 1, 2.048: 2, 1.024: 3, 0.512: 4, 0.256: 5}
"""Full-scale volts -> PGA bits."""
START = 0x8000
SINGLE_SHOT = 0x0100
RATE_860 = 0x00E0
COMPARATOR_OFF = 0x0003
CONVERSION_S = 1 / 860
TIMEOUT_S = 0.02


def config_word(channel: int, full_scale_v: float) -> int:
    """Start one conversion of `channel` against ground (MUX 100 + channel)."""
    mux = (0b100 + channel) << 12
    return START | mux | FULL_SCALES[full_scale_v] << 9 | SINGLE_SHOT | RATE_860 | COMPARATOR_OFF


class Ads1115:
    def __init__(self, i2c: I2cBus, address: int = 0x48) -> None:
        if address not in (0x48, 0x49, 0x4A, 0x4B):
            raise ValueError(f"address {address:#x}: an ADS1115 answers at 0x48..0x4B")
        self._i2c = i2c
        self._address = address
        i2c.probe(address, REG_CONFIG, "ADS1115")

    def read_volts(self, channel: int, full_scale_v: float) -> float:
        """One conversion (about 1.2 ms); the bus lock keeps channels from interleaving."""
        config = config_word(channel, full_scale_v)
        self._i2c.write(self._address, REG_CONFIG, config.to_bytes(2, "big"))
        time.sleep(CONVERSION_S)
        deadline = time.monotonic() + TIMEOUT_S
        while not self._i2c.read(self._address, REG_CONFIG, 2)[0] & 0x80:
            if time.monotonic() > deadline:
                raise TimeoutError(f"ADS1115 at {self._address:#x}: conversion did not finish")
            time.sleep(0.0002)
        raw = int.from_bytes(self._i2c.read(self._address, REG_CONVERSION, 2), "big", signed=True)
        return raw * full_scale_v / 32768


class Ads1115Input:
    def __init__(
        self,
        adc: Ads1115,
        channel: int,
        full_scale_v: float = 4.096,
        gain: float = 1.0,
        offset_v: float = 0.0,
    ) -> None:
        if channel not in range(4):
            raise ValueError(f"channel {channel}: an ADS1115 has channels 0..3")
        if full_scale_v not in FULL_SCALES:
            raise ValueError(
                f"full_scale_v {full_scale_v}: one of {', '.join(map(str, FULL_SCALES))}"
            )
        self._adc = adc
        self._channel = channel
        self._full_scale_v = full_scale_v
        self._gain = gain
        self._offset_v = offset_v

    def read_volts(self) -> float:
        return self._adc.read_volts(self._channel, self._full_scale_v) * self._gain + self._offset_v
