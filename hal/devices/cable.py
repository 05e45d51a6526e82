"""Proximity-pilot (PP) cable sensing: the resistor in the plug encodes the cable's rating."""

from __future__ import annotations

from pievse.hal.interfaces import CableFault
from pievse.hal.ports import AnalogIn

# IEC 61851-1 / IEC 62196: 1.5 kOhm 13 A, 680 Ohm 20 A, 220 Ohm 32 A, 100 Ohm 63 A.
# Band edges sit between neighbours so that resistor tolerance never changes the answer.
_BANDS_OHM: tuple[tuple[float, float, float], ...] = (
    (60.0, 150.0, 63.0),
    (150.0, 400.0, 32.0),
    (400.0, 1000.0, 20.0),
    (1000.0, 2700.0, 13.0),
)
NO_CABLE_OHM = 10_000.0


def rating_from_resistance(ohm: float) -> float | None:
    if ohm >= NO_CABLE_OHM:
        return None
    for low, high, rating in _BANDS_OHM:
        if low <= ohm < high:
            return rating
    raise CableFault(f"proximity resistor reads {ohm:.0f} ohm, which no cable encodes")


class ProximityCableSense:
    """PP line pulled up to `supply_v` through `pull_up_ohm`; the ADC reads the divider."""

    def __init__(self, adc: AnalogIn, pull_up_ohm: float, supply_v: float) -> None:
        self._adc = adc
        self._pull_up_ohm = pull_up_ohm
        self._supply_v = supply_v

    def resistance_ohm(self) -> float:
        volts = self._adc.read_volts()
        if volts >= self._supply_v * 0.999:
            return float("inf")
        return self._pull_up_ohm * volts / (self._supply_v - volts)

    def rating_a(self) -> float | None:
        return rating_from_resistance(self.resistance_ohm())


class FixedCable:
    """A tethered cable: its rating is a property of the board."""

    def __init__(self, rating_a: float) -> None:
        self._rating_a = rating_a

    def rating_a(self) -> float | None:
        return self._rating_a
