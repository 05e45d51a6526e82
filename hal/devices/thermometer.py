"""Enclosure thermometer: a linear analog sensor plus the sensor's over-temperature output."""

from __future__ import annotations

from hal.interfaces import Listener
from hal.ports import AnalogIn, DigitalIn


class LinearAnalogThermometer:
    """volts = offset_v + volts_per_c * celsius (e.g. TMP36: 0.5 V + 10 mV/degC)."""

    def __init__(
        self,
        adc: AnalogIn,
        offset_v: float,
        volts_per_c: float,
        trip_c: float,
        resume_c: float,
        alert: DigitalIn | None = None,
    ) -> None:
        if resume_c >= trip_c:
            raise ValueError(f"resume_c ({resume_c}) must be below trip_c ({trip_c})")
        self._adc = adc
        self._offset_v = offset_v
        self._volts_per_c = volts_per_c
        self._alert = alert
        self.trip_c = trip_c
        self.resume_c = resume_c

    def read_c(self) -> float:
        return (self._adc.read_volts() - self._offset_v) / self._volts_per_c

    def alert_active(self) -> bool:
        return self._alert is not None and self._alert.read()

    def on_change(self, listener: Listener) -> None:
        if self._alert is not None:
            self._alert.on_edge(lambda _level: listener())
