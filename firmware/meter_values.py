"""OCPP 1.6 MeterValue records built from one meter poll and what the controller offers.

Each measurand names where its value comes from, its unit (1.6 UnitOfMeasure; Frequency and
Power.Factor have none) and whether it is reported per phase. The configuration keys
MeterValuesSampledData and friends accept exactly the names of this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firmware.clock import iso_utc
from hal.interfaces import Measurements

PHASE_NAMES = ("L1", "L2", "L3")


@dataclass(frozen=True)
class Reading:
    """Everything a meter value may report, taken at one moment."""

    measurements: Measurements | None
    offered_a: float
    phases: int
    nominal_voltage_v: float
    temperature_c: float


@dataclass(frozen=True)
class Measurand:
    unit: str | None
    location: str
    per_phase: Callable[[Reading], tuple[float | None, ...]] | None = None
    total: Callable[[Reading], float | None] | None = None
    phase_suffix: str = ""


def _meter(field: str) -> Callable[[Reading], Any]:
    def read(reading: Reading) -> Any:
        m = reading.measurements
        return None if m is None else getattr(m, field)

    return read


MEASURANDS: dict[str, Measurand] = {
    "Energy.Active.Import.Register": Measurand("Wh", "Outlet", total=_meter("energy_import_wh")),
    "Power.Active.Import": Measurand("W", "Outlet", total=_meter("power_w")),
    "Current.Import": Measurand("A", "Outlet", per_phase=_meter("current_a")),
    "Voltage": Measurand("V", "Outlet", per_phase=_meter("voltage_v"), phase_suffix="-N"),
    "Frequency": Measurand(None, "Outlet", total=_meter("frequency_hz")),
    "Power.Factor": Measurand(None, "Outlet", total=_meter("power_factor")),
    "Current.Offered": Measurand("A", "Outlet", total=lambda r: r.offered_a),
    "Power.Offered": Measurand(
        "W", "Outlet", total=lambda r: r.offered_a * r.phases * r.nominal_voltage_v
    ),
    "Temperature": Measurand("Celsius", "Body", total=lambda r: r.temperature_c),
}


def _format(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def sampled_values(measurands: list[str], reading: Reading, context: str) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for name in measurands:
        spec = MEASURANDS[name]
        base: dict[str, Any] = {"context": context, "measurand": name, "location": spec.location}
        if spec.unit is not None:
            base["unit"] = spec.unit
        if spec.total is not None:
            value = spec.total(reading)
            if value is not None:
                values.append({"value": _format(value), **base})
            continue
        assert spec.per_phase is not None
        for phase, value in zip(PHASE_NAMES, spec.per_phase(reading) or (), strict=False):
            if value is not None:
                values.append({"value": _format(value), **base, "phase": phase + spec.phase_suffix})
    return values


def meter_value(
    at: datetime, measurands: list[str], reading: Reading, context: str
) -> dict[str, Any] | None:
    """One MeterValue, or None when nothing could be read (no sampledValue is not allowed)."""
    values = sampled_values(measurands, reading, context)
    if not values:
        return None
    return {"timestamp": iso_utc(at), "sampledValue": values}
