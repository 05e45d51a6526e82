"""The bring-up checklist's judgements: a measured value in, pass or fail with the value and
the reason out. Pure, so every limit is tested without a board; the runner (`bringup`) does
the measuring.

The limits are docs/hardware.md's: the pilot's +12 V within ±0.6 V at rest (11.4..12.6) and
its PWM levels within ±0.5 V; the supply as EN 50160 bounds it (voltage within ±10 % of
nominal, frequency within +4 % / -6 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pievse.hal.interfaces import PilotSample, PilotState

PILOT_REST_V = (11.4, 12.6)
PWM_HIGH_V = (11.5, 12.5)
PWM_LOW_V = (-12.5, -11.5)
VOLTAGE_TOLERANCE = 0.10
FREQUENCY_BAND = (0.94, 1.04)
SENSOR_RANGE_C = (-40.0, 125.0)
"""What an enclosure sensor can read at all; outside it the sensor or its wiring is broken."""
EARLIEST_PLAUSIBLE = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
"""Before this the clock has never been set (a Pi without RTC boots at its last shutdown
or at 1970)."""
CLOCK_SKEW_S = 60.0


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: Outcome
    measured: str
    """What was measured, with units ("" where nothing could be)."""
    reason: str
    """Why it failed or was skipped; for a pass, what was checked."""


def passed(step: str, measured: str, checked: str) -> StepResult:
    return StepResult(step, Outcome.PASS, measured, checked)


def failed(step: str, measured: str, reason: str) -> StepResult:
    return StepResult(step, Outcome.FAIL, measured, reason)


def skipped(step: str, reason: str, measured: str = "") -> StepResult:
    return StepResult(step, Outcome.SKIPPED, measured, reason)


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def describe_pilot(sample: PilotSample) -> str:
    return f"state {sample.state}, high {sample.high_v:+.2f} V, low {sample.low_v:+.2f} V"


def judge_pilot_at_rest(sample: PilotSample) -> StepResult:
    """Steady +12 V with nothing plugged in: state A."""
    step = "pilot +12 V"
    measured = describe_pilot(sample)
    if sample.state != PilotState.A:
        return skipped(step, f"an EV is connected (pilot state {sample.state})", measured)
    if not _within(sample.high_v, PILOT_REST_V):
        return failed(step, measured, f"expected {PILOT_REST_V[0]}..{PILOT_REST_V[1]} V")
    return passed(step, measured, "steady +12 V, state A")


def judge_pilot_pwm(sample: PilotSample, duty_percent: float) -> StepResult:
    """The generator's two levels with the PWM running and no EV: +12 V and -12 V."""
    step = "pilot PWM levels"
    measured = f"{describe_pilot(sample)} at {duty_percent:.1f} % duty"
    if not sample.pwm_active:
        return failed(step, measured, "the PWM was commanded but is not seen running")
    problems = []
    if not _within(sample.high_v, PWM_HIGH_V):
        problems.append(f"high level expected {PWM_HIGH_V[0]}..{PWM_HIGH_V[1]} V")
    if not _within(sample.low_v, PWM_LOW_V):
        problems.append(f"low level expected {PWM_LOW_V[0]}..{PWM_LOW_V[1]} V")
    if problems:
        return failed(step, measured, "; ".join(problems))
    return passed(step, measured, "+12 V / -12 V within 0.5 V")


def judge_supply(
    step: str,
    voltages: Sequence[float | None],
    phases: int,
    frequency_hz: float | None,
    nominal_v: float,
    nominal_hz: float,
) -> tuple[str, list[str]]:
    """What a meter reads of the supply: each of the board's phases within ±10 % of nominal
    and the frequency in EN 50160's band. Returns (measured, problems)."""
    shown = [
        f"L{i + 1} {'-' if v is None else f'{v:.1f}'} V" for i, v in enumerate(voltages[:phases])
    ]
    hz = "-" if frequency_hz is None else f"{frequency_hz:.2f}"
    measured = f"{', '.join(shown)}, {hz} Hz"
    low, high = nominal_v * (1 - VOLTAGE_TOLERANCE), nominal_v * (1 + VOLTAGE_TOLERANCE)
    problems = [
        f"L{i + 1} expected {low:.0f}..{high:.0f} V"
        for i, v in enumerate(voltages[:phases])
        if v is None or not low <= v <= high
    ]
    band = (nominal_hz * FREQUENCY_BAND[0], nominal_hz * FREQUENCY_BAND[1])
    if frequency_hz is None or not _within(frequency_hz, band):
        problems.append(f"frequency expected {band[0]:.1f}..{band[1]:.1f} Hz")
    return measured, problems


def judge_energy(first_wh: float | None, second_wh: float | None) -> tuple[str, list[str]]:
    """Two readings of the import register a moment apart: present, finite, not going back."""
    shown = " -> ".join("-" if e is None else f"{e:.1f}" for e in (first_wh, second_wh))
    measured = f"energy {shown} Wh"
    if first_wh is None or second_wh is None:
        return measured, ["the meter reads no import energy"]
    if second_wh < first_wh:
        return measured, ["the energy counter went backwards"]
    if first_wh < 0:
        return measured, ["the energy counter is negative"]
    return measured, []


def judge_temperature(
    where: str, celsius: float, trip_c: float, alert_active: bool
) -> tuple[str, list[str]]:
    measured = f"{where} {celsius:.1f} °C (trip {trip_c:.0f} °C)"
    if not _within(celsius, SENSOR_RANGE_C):
        return measured, [f"{where}: no sensor reads that; check the sensor and its wiring"]
    problems = []
    if celsius >= trip_c:
        problems.append(f"{where} at or above its trip point")
    if alert_active:
        problems.append(f"{where}'s over-temperature output is active")
    return measured, problems


def judge_clock(box_now: datetime, host_now: datetime, synced: bool | None) -> StepResult:
    """The box's time (the host's, shifted to what the CSMS said) must be plausible, and the
    host's own clock near it: a large shift means the host has no working time source."""
    step = "clock"
    skew_s = (box_now - host_now).total_seconds()
    ntp = {True: "synchronised", False: "not synchronised", None: "unknown"}[synced]
    measured = f"{box_now.isoformat(timespec='seconds')}, host {skew_s:+.1f} s, NTP {ntp}"
    if box_now < EARLIEST_PLAUSIBLE:
        return failed(step, measured, "the clock was never set (no NTP and no CSMS time)")
    if abs(skew_s) > CLOCK_SKEW_S:
        return failed(
            step, measured, f"the host clock is off the CSMS's by over {CLOCK_SKEW_S:.0f} s"
        )
    return passed(step, measured, "set, and the host's clock within a minute of it")


def combine(
    step: str, measured: Sequence[str], problems: Sequence[str], checked: str
) -> StepResult:
    shown = "; ".join(m for m in measured if m)
    if problems:
        return failed(step, shown, "; ".join(problems))
    return passed(step, shown, checked)
