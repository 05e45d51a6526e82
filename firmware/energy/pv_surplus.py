"""Charging from PV surplus: the current the sun leaves over, smoothed, and the decisions to
start and stop that do not cycle the contactor with every passing cloud.

The grid meter's export is what the house does not use; what the EV draws now is part of the
surplus too (it would be exported without it), so the surplus current is (export + the
EV's own power) / (voltage x phases). Starting needs the minimum to be covered for
`enable_delay_s`, stopping needs it to be missed for `disable_delay_s`, and a session that
started charges at least `min_charge_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pievse.firmware.control.duty_cycle import MIN_CURRENT_A


def surplus_current_a(export_w: float, own_w: float, voltage_v: float, phases: int) -> float:
    """Export is positive towards the grid; a net import gives a negative surplus."""
    return (export_w + own_w) / (voltage_v * phases)


def smooth(previous: float | None, sample: float, dt_s: float, tau_s: float) -> float:
    """A first-order low pass: a cloud shorter than `tau_s` moves the result a little."""
    if previous is None or tau_s <= 0:
        return sample
    weight = 1.0 - math.exp(-max(0.0, dt_s) / tau_s)
    return previous + weight * (sample - previous)


@dataclass(frozen=True)
class PvSettings:
    enable_delay_s: float = 60.0
    disable_delay_s: float = 180.0
    min_charge_s: float = 600.0
    hysteresis_a: float = 0.5
    minimum_a: float = MIN_CURRENT_A


@dataclass(frozen=True)
class PvState:
    charging: bool = False
    since: float | None = None
    """When the surplus last crossed the start (or stop) threshold, None when it has not."""
    started_at: float | None = None


def pv_step(
    state: PvState, surplus_a: float, now: float, settings: PvSettings
) -> tuple[PvState, float]:
    """The next state and the limit it gives: the surplus while charging (at least the
    minimum), 0 while not."""
    if not state.charging:
        covered = surplus_a >= settings.minimum_a + settings.hysteresis_a
        if not covered:
            return replace(state, since=None), 0.0
        since = now if state.since is None else state.since
        if now - since < settings.enable_delay_s:
            return replace(state, since=since), 0.0
        return PvState(True, None, now), max(settings.minimum_a, surplus_a)
    missed = surplus_a < settings.minimum_a - settings.hysteresis_a
    if not missed:
        return replace(state, since=None), max(settings.minimum_a, surplus_a)
    since = now if state.since is None else state.since
    held = state.started_at is not None and now - state.started_at < settings.min_charge_s
    if held or now - since < settings.disable_delay_s:
        return replace(state, since=since), settings.minimum_a
    return PvState(), 0.0
