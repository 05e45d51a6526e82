"""What an emulated meter shows in the registers its driver does not read (apparent and
reactive power, phase angles, averages, line-to-line voltages, the neutral current, export
total and net energy, energy per phase), derived from the values its source gives. Pure.

The three phases are taken 120° apart with each phase's current at its power factor's
angle, as a meter on a symmetric supply measures them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

PHASES = ("L1", "L2", "L3")
LINE_PAIRS = (("L1", "L2"), ("L2", "L3"), ("L3", "L1"))
IMPORT = "Energy.Active.Import.Register"
EXPORT = "Energy.Active.Export.Register"


def _angle_deg(power_factor: float) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, power_factor))))


def _line_to_line(a: float, b: float) -> float:
    """Two phase voltages 120° apart: |Va - Vb|."""
    return math.sqrt(a * a + b * b + a * b)


def _neutral(currents: Sequence[float]) -> float:
    """|I1 + I2 + I3| of currents 120° apart (all at one power factor)."""
    i1, i2, i3 = currents
    return math.sqrt(max(0.0, i1 * i1 + i2 * i2 + i3 * i3 - i1 * i2 - i2 * i3 - i3 * i1))


def shown_values(values: Mapping[str, float], phase_import_wh: Sequence[float]) -> dict[str, float]:
    """Every quantity of `register_map.SERVED_QUANTITIES` (but "unmodelled", which reads
    zero): the source's own values and what a meter derives from them. `phase_import_wh`:
    the import energy counted per phase."""
    shown = dict(values)
    volts = [values.get(f"Voltage/{p}-N", 0.0) for p in PHASES]
    amps = [values.get(f"Current.Import/{p}", 0.0) for p in PHASES]
    watts = [values.get(f"Power.Active.Import/{p}", 0.0) for p in PHASES]
    for i, phase in enumerate(PHASES):
        apparent = volts[i] * amps[i]
        shown[f"Power.Apparent/{phase}"] = apparent
        shown[f"Power.Reactive/{phase}"] = math.sqrt(max(0.0, apparent**2 - watts[i] ** 2))
        pf = values.get(f"Power.Factor/{phase}", 1.0)
        shown[f"Phase.Angle/{phase}"] = _angle_deg(pf) if amps[i] else 0.0
    for a, b in LINE_PAIRS:
        shown[f"Voltage/{a}-{b}"] = _line_to_line(volts[PHASES.index(a)], volts[PHASES.index(b)])
    shown["Power.Apparent"] = sum(shown[f"Power.Apparent/{p}"] for p in PHASES)
    shown["Power.Reactive"] = sum(shown[f"Power.Reactive/{p}"] for p in PHASES)
    drawing = any(amps)
    shown["Phase.Angle"] = _angle_deg(values.get("Power.Factor", 1.0)) if drawing else 0.0
    live = [v for v in volts if v > 0]
    shown["Voltage.Average"] = sum(live) / len(live) if live else 0.0
    shown["Voltage.LineAverage"] = sum(shown[f"Voltage/{a}-{b}"] for a, b in LINE_PAIRS) / 3
    shown["Current.Sum"] = sum(amps)
    shown["Current.Average"] = sum(amps) / 3
    shown["Current.Neutral"] = _neutral(amps)
    shown["Power.Active.Export"] = values.get("Power.Active.Export", 0.0)
    export_wh = values.get(EXPORT, 0.0)
    shown[EXPORT] = export_wh
    shown["Energy.Active.Total"] = values.get(IMPORT, 0.0) + export_wh
    shown["Energy.Active.Net"] = values.get(IMPORT, 0.0) - export_wh
    for phase, imported in zip(PHASES, phase_import_wh, strict=True):
        shown[f"{IMPORT}/{phase}"] = imported
        shown[f"{EXPORT}/{phase}"] = 0.0
        shown[f"Energy.Active.Total/{phase}"] = imported
    return shown
