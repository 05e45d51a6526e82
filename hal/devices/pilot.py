"""Control pilot generator and sampler for a front end that holds both PWM peaks.

An ADC at a few hundred samples/s cannot follow a 1 kHz square wave, so the board holds the
positive and the negative peak on two channels; state comes from the high level, the diode
check from the low level (IEC 61851-1 annex A: the low level must be -12 V).
"""

from __future__ import annotations

from pievse.hal.interfaces import Listener, PilotSample, PilotState
from pievse.hal.ports import AnalogIn, DigitalIn, PwmOut

# Upper bounds of the high level for each state, midway between the nominal levels
# (A 12 V, B 9 V, C 6 V, D 3 V, E 0 V, F -12 V).
_STATE_FLOORS_V: tuple[tuple[float, PilotState], ...] = (
    (10.5, PilotState.A),
    (7.5, PilotState.B),
    (4.5, PilotState.C),
    (1.5, PilotState.D),
    (-1.5, PilotState.E),
)
DIODE_LOW_MAX_V = -10.5


def state_from_high_level(high_v: float) -> PilotState:
    for floor_v, state in _STATE_FLOORS_V:
        if high_v >= floor_v:
            return state
    if high_v > -10.5:
        return PilotState.E
    return PilotState.F


class PeakHoldPilot:
    def __init__(
        self,
        pwm: PwmOut,
        high: AnalogIn,
        low: AnalogIn,
        alert: DigitalIn | None = None,
        frequency_hz: float = 1000.0,
    ) -> None:
        self._pwm = pwm
        self._high = high
        self._low = low
        self._alert = alert
        self._frequency_hz = frequency_hz
        self._duty_fraction = 1.0
        self._pwm.set(frequency_hz, 1.0)

    def set_duty(self, duty_percent: float) -> None:
        if not 0.0 < duty_percent < 100.0:
            raise ValueError(f"pilot duty must be between 0 and 100 %, got {duty_percent}")
        self._apply(duty_percent / 100.0)

    def set_steady_high(self) -> None:
        self._apply(1.0)

    def set_state_f(self) -> None:
        self._apply(0.0)

    def _apply(self, duty_fraction: float) -> None:
        if duty_fraction != self._duty_fraction:
            self._duty_fraction = duty_fraction
            self._pwm.set(self._frequency_hz, duty_fraction)

    def sample(self) -> PilotSample:
        high_v = self._high.read_volts()
        low_v = self._low.read_volts()
        pwm_active = 0.0 < self._duty_fraction < 1.0
        state = state_from_high_level(high_v)
        diode_ok = (
            not pwm_active
            or state in (PilotState.A, PilotState.E, PilotState.F)
            or (low_v <= DIODE_LOW_MAX_V)
        )
        return PilotSample(state, high_v, low_v, pwm_active, diode_ok)

    def on_change(self, listener: Listener) -> None:
        if self._alert is not None:
            self._alert.on_edge(lambda _level: listener())
