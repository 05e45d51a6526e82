"""An emulated meter's import counter: the source's energy on top of what the meter had
counted before (kept in a small JSON file, as a real meter keeps it), split per phase as it
grows, in proportion to each phase's power at that moment.

The file is written before a read can show a higher count, so a killed process never comes
back with its meter below a value some client was already given.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class EnergyCounter:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._guard = threading.Lock()
        self._base_wh, phases = load_energy(path)
        self.total_wh = self._base_wh
        self.phase_wh = phases
        self._shares = [1.0, 0.0, 0.0]
        self._saved_wh = self.total_wh

    def update(self, source_wh: float, phase_power_w: Sequence[float]) -> float:
        """The count with the source's energy `source_wh` (from 0 at this process's start);
        what it grew by since the last update goes to the phases drawing now (or, with none
        drawing, as the last ones drew). Never goes back."""
        with self._guard:
            drawn = [max(0.0, w) for w in phase_power_w]
            if sum(drawn) > 0:
                self._shares = [w / sum(drawn) for w in drawn]
            grown = self._base_wh + source_wh - self.total_wh
            if grown > 0:
                self.total_wh += grown
                self.phase_wh = [
                    e + grown * s for e, s in zip(self.phase_wh, self._shares, strict=True)
                ]
            self._save()
            return self.total_wh

    def _save(self) -> None:
        if self._path is None or self.total_wh == self._saved_wh:
            return
        self._saved_wh = self.total_wh
        tmp = self._path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"energy_wh": self.total_wh, "phase_wh": self.phase_wh}))
            os.replace(tmp, self._path)
        except OSError as exc:
            log.warning("cannot save the meter's energy counter to %s: %s", self._path, exc)


def load_energy(path: Path | None) -> tuple[float, list[float]]:
    """(total, per phase) kept in `path`; a file from before the phases were kept counts its
    total on L1."""
    if path is None or not path.exists():
        return 0.0, [0.0, 0.0, 0.0]
    try:
        data = json.loads(path.read_text())
        total = float(data["energy_wh"])
        phases = [float(v) for v in data.get("phase_wh", [total, 0.0, 0.0])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a meter energy file ({exc})") from exc
    if not all(math.isfinite(v) and v >= 0 for v in (total, *phases)) or len(phases) != 3:
        raise ValueError(f"{path}: energy_wh and 3 phase_wh must be finite numbers >= 0")
    return total, phases
