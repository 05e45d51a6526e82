"""What the bench EV reports beyond the pilot: its state of charge."""

from __future__ import annotations

from pievse.hal.sim.plant import Plant


class BenchEvStateOfCharge:
    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def soc_percent(self) -> float | None:
        return self._plant.ev_soc_reported()
