"""What the boxes of a fleet running in one process share, made once by the fleet and handed
to each box it starts, so that a box costs no more than what is its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from pievse.board.loader import BoardSpec, load_board
from pievse.hal.sim.meter_line import MeterLine


@dataclass
class ProcessShare:
    meter_line: MeterLine | None = field(default_factory=MeterLine)
    """A few Modbus servers on loopback for every box's emulated meters, instead of one a
    box (None: each box its own, as a box started on its own has)."""
    _boards: dict[str, BoardSpec] = field(default_factory=dict, repr=False)

    def board(self, name_or_path: str) -> BoardSpec:
        """The board file, read and checked once for all the boxes that run it (parsing
        it was a tenth of a box's start); raises BoardError as load_board does."""
        spec = self._boards.get(name_or_path)
        if spec is None:
            spec = self._boards[name_or_path] = load_board(name_or_path)
        return spec

    async def close(self) -> None:
        """After its boxes stopped."""
        if self.meter_line is not None:
            await self.meter_line.close()
