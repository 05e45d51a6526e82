"""The bench EV kept across restarts, as a real car stays plugged in while its controller
restarts or is killed: its state, current, phases and charge in a small JSON file, replaced
whole at every change."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pievse.hal.sim.pilot_circuit import EV_STATES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedEv:
    state: str
    max_current_a: float
    phases: int
    soc_percent: float


def load_ev(path: Path | None) -> SavedEv | None:
    """None when nothing was kept; ValueError for a file that is not one of these."""
    if path is None or not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
        state, max_a = saved["state"], float(saved["max_current_a"])
        phases, soc = int(saved["phases"]), float(saved["soc_percent"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a bench EV state file ({exc})") from exc
    if state not in EV_STATES or phases not in (1, 3) or not 0 <= max_a <= 80:
        raise ValueError(f"{path}: EV state out of range: {saved}")
    return SavedEv(state, max_a, phases, min(100.0, max(0.0, soc)))


def save_ev(path: Path | None, ev: SavedEv) -> None:
    """Nowhere when `path` is None; a file that cannot be written is logged, not raised
    (the bench goes on without it)."""
    if path is None:
        return
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(asdict(ev)))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot keep the bench EV's state in %s: %s", path, exc)
