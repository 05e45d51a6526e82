"""The EV's side of the control pilot and proximity circuits as electrical levels (IEC
61851-1): the pilot voltages through the 1 kOhm source resistor, the EV's resistors and
diode; the PP divider's volts; the current an EV reads from the duty cycle. Pure."""

from __future__ import annotations

SOURCE_OHM = 1000.0
GENERATOR_V = 12.0
DIODE_DROP_V = 0.7
R2_OHM = 2740.0
EV_STATE_OHM: dict[str, float | None] = {
    "A": None,
    "B": R2_OHM,
    "C": 1 / (1 / R2_OHM + 1 / 1300.0),
    "D": 1 / (1 / R2_OHM + 1 / 270.0),
}
CABLE_PP_OHM = {13.0: 1500.0, 20.0: 680.0, 32.0: 220.0, 63.0: 100.0}
EV_STATES = ("A", "B", "C", "D", "E", "F")


def ev_offered_current_a(duty_fraction: float) -> float:
    """What an EV reads from the duty cycle (IEC 61851-1 table A.8, EV side)."""
    duty = duty_fraction * 100.0
    if 8.0 <= duty < 10.0:
        return 6.0
    if 10.0 <= duty <= 85.0:
        return duty * 0.6
    if 85.0 < duty <= 96.5:
        return (duty - 64.0) * 2.5
    return 0.0


def pilot_levels(ev_state: str, duty: float, diode_failed: bool) -> tuple[float, float]:
    """(high, low) volts of the pilot as its front end samples them; `duty` 1.0 is a steady
    +12 V, 0.0 a steady low. `diode_failed`: the bench's diode fault."""
    if ev_state == "E":
        return 0.0, 0.0
    if ev_state == "F":
        return -GENERATOR_V, -GENERATOR_V
    load = EV_STATE_OHM[ev_state]
    if load is None:
        # Nothing plugged in: the bench's diode fault stands for a pilot stage whose
        # negative swing is lost, which only a PWM with no EV shows (commissioning).
        high = GENERATOR_V
        low_phase = 0.0 if diode_failed else -GENERATOR_V
    elif diode_failed:
        high = GENERATOR_V * load / (SOURCE_OHM + load)
        low_phase = -high
    else:
        high = GENERATOR_V - SOURCE_OHM * (GENERATOR_V - DIODE_DROP_V) / (SOURCE_OHM + load)
        low_phase = -GENERATOR_V
    if duty >= 1.0:
        return round(high, 3), round(high, 3)
    if duty <= 0.0:
        return round(low_phase, 3), round(low_phase, 3)
    return round(high, 3), round(low_phase, 3)


def pp_volts(plugged: bool, cable_rating_a: float, supply_v: float, pull_up_ohm: float) -> float:
    """The proximity pin: the supply with no plug, else the cable's coding resistor under
    the pull-up."""
    if not plugged:
        return supply_v
    resistor = CABLE_PP_OHM[cable_rating_a]
    return supply_v * resistor / (resistor + pull_up_ohm)
