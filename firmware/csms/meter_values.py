"""MeterValue records built from one meter poll and what the controller knows, in the shape OCPP
1.6 gives them (string values, a unit per value); the 2.0.1 front converts them.

Each measurand names its unit (1.6 UnitOfMeasure; Frequency and Power.Factor have none) and
yields its values with phase and location. The configuration keys MeterValuesSampledData and
friends accept exactly the names of this table that the board can deliver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pievse.firmware.clock import iso_utc
from pievse.hal.interfaces import Measurements

PHASE_NAMES = ("L1", "L2", "L3")
IN_USE_A = 1.0
"""A phase carrying at least this much current counts as in use for Power.Offered."""
REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class Reading:
    """Everything a meter value may report, taken at one moment."""

    measurements: Measurements | None
    offered_a: float
    phases: int
    nominal_voltage_v: float
    temperatures_c: dict[str, float] = field(default_factory=dict)
    """By OCPP location (Body, Outlet)."""
    soc_percent: float | None = None
    interval_start_wh: float | None = None
    """The register at the start of the interval Energy.Active.Import.Interval covers."""


Value = tuple[float, str | None, str]
"""(value, phase or None, location)."""


@dataclass(frozen=True)
class Measurand:
    unit: str | None
    values: Callable[[Reading], list[Value]]
    needs: str | None = None
    """What the board must have: a meter measurand, "soc", or None (always deliverable)."""


def _meter_total(attribute: str) -> Callable[[Reading], list[Value]]:
    def read(reading: Reading) -> list[Value]:
        m = reading.measurements
        value = None if m is None else getattr(m, attribute)
        return [] if value is None else [(value, None, "Outlet")]

    return read


def _meter_phases(attribute: str, suffix: str = "") -> Callable[[Reading], list[Value]]:
    def read(reading: Reading) -> list[Value]:
        m = reading.measurements
        values = () if m is None else getattr(m, attribute)
        return [
            (value, phase + suffix, "Outlet")
            for phase, value in zip(PHASE_NAMES, values, strict=False)
            if value is not None
        ]

    return read


def _interval(reading: Reading) -> list[Value]:
    m = reading.measurements
    if m is None or m.energy_import_wh is None or reading.interval_start_wh is None:
        return []
    return [(max(0.0, m.energy_import_wh - reading.interval_start_wh), None, "Outlet")]


def phases_in_use(reading: Reading) -> int:
    """Phases the EV draws on now; before it draws, the phases the box can offer."""
    m = reading.measurements
    drawing = [] if m is None else [c for c in m.current_a if c is not None and c >= IN_USE_A]
    return len(drawing) or reading.phases


def _power_offered(reading: Reading) -> list[Value]:
    """Offered current x voltage x phases in use; measured voltage where the meter has it."""
    phases = phases_in_use(reading)
    m = reading.measurements
    volts = [v for v in (m.voltage_v[:phases] if m else ()) if v is not None and v > 0]
    voltage = sum(volts) / len(volts) if volts else reading.nominal_voltage_v
    return [(reading.offered_a * voltage * phases, None, "Outlet")]


MEASURANDS: dict[str, Measurand] = {
    REGISTER: Measurand("Wh", _meter_total("energy_import_wh"), REGISTER),
    "Energy.Active.Import.Interval": Measurand("Wh", _interval, REGISTER),
    "Power.Active.Import": Measurand("W", _meter_total("power_w"), "Power.Active.Import"),
    "Current.Import": Measurand("A", _meter_phases("current_a"), "Current.Import"),
    "Voltage": Measurand("V", _meter_phases("voltage_v", "-N"), "Voltage"),
    "Frequency": Measurand(None, _meter_total("frequency_hz"), "Frequency"),
    "Power.Factor": Measurand(None, _meter_total("power_factor"), "Power.Factor"),
    "Current.Offered": Measurand("A", lambda r: [(r.offered_a, None, "Outlet")]),
    "Power.Offered": Measurand("W", _power_offered),
    "Temperature": Measurand(
        "Celsius", lambda r: [(c, None, where) for where, c in r.temperatures_c.items()]
    ),
    "SoC": Measurand(
        "Percent", lambda r: [] if r.soc_percent is None else [(r.soc_percent, None, "EV")], "soc"
    ),
}


def deliverable_measurands(meter_measurands: Iterable[str], has_soc: bool) -> frozenset[str]:
    """The measurands this board can report: what its meter reads, plus what it knows itself."""
    have = {*meter_measurands, *(["soc"] if has_soc else [])}
    return frozenset(name for name, m in MEASURANDS.items() if m.needs is None or m.needs in have)


def _format(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def sampled_values(measurands: list[str], reading: Reading, context: str) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for name in measurands:
        spec = MEASURANDS[name]
        for value, phase, location in spec.values(reading):
            entry: dict[str, Any] = {
                "value": _format(value),
                "context": context,
                "measurand": name,
                "location": location,
            }
            if phase is not None:
                entry["phase"] = phase
            if spec.unit is not None:
                entry["unit"] = spec.unit
            values.append(entry)
    return values


def meter_value(
    at: datetime, measurands: list[str], reading: Reading, context: str
) -> dict[str, Any] | None:
    """One MeterValue, or None when nothing could be read (no sampledValue is not allowed)."""
    values = sampled_values(measurands, reading, context)
    if not values:
        return None
    return {"timestamp": iso_utc(at), "sampledValue": values}
