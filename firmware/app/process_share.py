"""What the boxes of a fleet running in one process share, made once by the fleet and handed
to each box it starts, so that a box costs no more than what is its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from pievse.hal.sim.meter_line import MeterLine


@dataclass
class ProcessShare:
    meter_line: MeterLine | None = field(default_factory=MeterLine)
    """A few Modbus servers on loopback for every box's emulated meters, instead of one a
    box (None: each box its own, as a box started on its own has)."""

    async def close(self) -> None:
        """After its boxes stopped."""
        if self.meter_line is not None:
            await self.meter_line.close()
