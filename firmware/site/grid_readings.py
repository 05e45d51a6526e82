"""The latest reading of the site's grid connection, from whoever supplies it: a grid meter
polled by the box or a home energy system putting it over the local API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PHASES = 3
MQTT_ORIGIN = "mqtt"
"""A reading published on the box's own MQTT topic (`[mqtt] grid_readings`): never shared
with a site (only "local" readings are)."""


class GridReadingError(ValueError):
    pass


@dataclass(frozen=True)
class GridReading:
    current_a: tuple[float | None, float | None, float | None]
    """Per phase, import positive; None for a phase not measured."""
    export_w: float | None
    at: float
    """Monotonic seconds."""
    origin: str = "local"
    """"local": this box's grid meter or its local API; MQTT_ORIGIN: its MQTT topic; else
    the site box that shared it."""
    taken_wall: float | None = None
    """When the site box that shared it read it (wall seconds); None: when it was fed."""


class GridReadings:
    def __init__(self, monotonic: Callable[[], float], changed: Callable[[], None]) -> None:
        self._monotonic = monotonic
        self._changed = changed
        self.latest: GridReading | None = None

    def feed(
        self,
        current_a: Sequence[float | None],
        export_w: float | None = None,
        origin: str = "local",
        taken_wall: float | None = None,
    ) -> None:
        """Raises GridReadingError and keeps the last reading when this one is not sane."""
        if len(current_a) != PHASES:
            raise GridReadingError(f"current_a: expected {PHASES} phases, got {len(current_a)}")
        for value in current_a:
            if value is not None and not -1000.0 <= value <= 1000.0:
                raise GridReadingError(f"current_a: {value} A is out of range -1000..1000")
        if export_w is not None and not -1e6 <= export_w <= 1e6:
            raise GridReadingError(f"export_w: {export_w} W is out of range")
        phases = (current_a[0], current_a[1], current_a[2])
        self.latest = GridReading(phases, export_w, self._monotonic(), origin, taken_wall)
        self._changed()

    def describe(self) -> dict[str, Any]:
        latest = self.latest
        return {
            "grid_current_a": None if latest is None else list(latest.current_a),
            "grid_export_w": None if latest is None else latest.export_w,
        }

    def fresh(self, timeout_s: float) -> GridReading | None:
        latest = self.latest
        if latest is None or self._monotonic() - latest.at > timeout_s:
            return None
        return latest
