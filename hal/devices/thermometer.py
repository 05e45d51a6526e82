"""Enclosure and outlet thermometers: a reading, trip/resume points, and the sensor's own
over-temperature output where it has one (the fast, hardware path of the trip).

One `TripThermometer` serves every sensor; what differs is how a reading is made, so each
sensor kind is a constructor: a linear analog sensor (TMP36), an NTC in a divider, a TMP102
on I2C (whose ALERT pin is programmed to the same trip and resume points).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pievse.hal.interfaces import Listener
from pievse.hal.ports import AnalogIn, DigitalIn, I2cBus

KELVIN = 273.15
TMP102_TEMPERATURE = 0x00
TMP102_CONFIG = 0x01
TMP102_T_LOW = 0x02
TMP102_T_HIGH = 0x03
TMP102_CONFIG_WORD = b"\x78\xa0"
"""12-bit, two faults in a row before ALERT, comparator mode, ALERT active low, 4 Hz."""
TMP102_STEP_C = 0.0625


class TripThermometer:
    def __init__(
        self,
        read_c: Callable[[], float],
        trip_c: float,
        resume_c: float,
        alert: DigitalIn | None = None,
    ) -> None:
        if resume_c >= trip_c:
            raise ValueError(f"resume_c ({resume_c}) must be below trip_c ({trip_c})")
        self._read_c = read_c
        self._alert = alert
        self.trip_c = trip_c
        self.resume_c = resume_c

    def read_c(self) -> float:
        return self._read_c()

    def alert_active(self) -> bool:
        return self._alert is not None and self._alert.read()

    def on_change(self, listener: Listener) -> None:
        if self._alert is not None:
            self._alert.on_edge(lambda _level: listener())


def linear_analog(
    adc: AnalogIn,
    offset_v: float,
    volts_per_c: float,
    trip_c: float,
    resume_c: float,
    alert: DigitalIn | None = None,
) -> TripThermometer:
    """volts = offset_v + volts_per_c * celsius (e.g. TMP36: 0.5 V + 10 mV/degC)."""
    return TripThermometer(
        lambda: (adc.read_volts() - offset_v) / volts_per_c, trip_c, resume_c, alert
    )


def ntc_celsius(
    volts: float, supply_v: float, fixed_ohm: float, r25_ohm: float, beta: float
) -> float:
    """The NTC sits between the ADC input and ground, `fixed_ohm` between the input and the
    supply; beta equation around 25 degC. An open or shorted sensor reads as a fault."""
    if not 0.0 < volts < supply_v:
        raise OSError(f"NTC divider reads {volts:.3f} V of {supply_v} V: sensor open or shorted")
    ohm = fixed_ohm * volts / (supply_v - volts)
    return 1.0 / (1.0 / (25.0 + KELVIN) + math.log(ohm / r25_ohm) / beta) - KELVIN


def ntc(
    adc: AnalogIn,
    supply_v: float,
    fixed_ohm: float,
    r25_ohm: float,
    beta: float,
    trip_c: float,
    resume_c: float,
    alert: DigitalIn | None = None,
) -> TripThermometer:
    return TripThermometer(
        lambda: ntc_celsius(adc.read_volts(), supply_v, fixed_ohm, r25_ohm, beta),
        trip_c,
        resume_c,
        alert,
    )


def tmp102_word(celsius: float) -> bytes:
    """A TMP102 temperature register: 12-bit two's complement, left-aligned."""
    return ((round(celsius / TMP102_STEP_C) & 0xFFF) << 4).to_bytes(2, "big")


def tmp102_celsius(word: bytes) -> float:
    raw = int.from_bytes(word, "big") >> 4
    return (raw - 4096 if raw & 0x800 else raw) * TMP102_STEP_C


def tmp102(
    i2c: I2cBus,
    trip_c: float,
    resume_c: float,
    address: int = 0x48,
    alert: DigitalIn | None = None,
) -> TripThermometer:
    """Programs the sensor's ALERT comparator to trip_c/resume_c, so the GPIO edge and the
    software comparison agree."""
    if address not in (0x48, 0x49, 0x4A, 0x4B):
        raise ValueError(f"address {address:#x}: a TMP102 answers at 0x48..0x4B")
    i2c.probe(address, TMP102_TEMPERATURE, "TMP102")
    i2c.write(address, TMP102_CONFIG, TMP102_CONFIG_WORD)
    i2c.write(address, TMP102_T_HIGH, tmp102_word(trip_c))
    i2c.write(address, TMP102_T_LOW, tmp102_word(resume_c))
    return TripThermometer(
        lambda: tmp102_celsius(i2c.read(address, TMP102_TEMPERATURE, 2)),
        trip_c,
        resume_c,
        alert,
    )
