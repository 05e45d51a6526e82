"""The charge controller alone on the bench-sim board, stepped by hand on a manual clock:
no task, no sleeping, every tick the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pievse.board.assembly import assemble
from pievse.board.loader import load_board
from pievse.firmware.clock import ManualClock
from pievse.firmware.config import Config
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import ANYONE, IdTagInfo
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.hal.interfaces import Board
from pievse.hal.sim.plant import Plant


async def anyone(_tag: str) -> IdTagInfo:
    return ANYONE


@dataclass
class ControllerRig:
    clock: ManualClock
    board: Board
    plant: Plant
    controller: ChargeController
    limit_a: float | None = None
    """A limit source ("test") the test sets; None imposes nothing."""

    def step(self, seconds: float = 0.0) -> None:
        self.clock.advance(seconds)
        self.controller.step()

    @property
    def duty(self) -> float | None:
        duty = self.controller.duty
        return None if duty is None else round(duty, 2)

    @property
    def contactor(self) -> str:
        return "closed" if self.controller.contactor_closed else "open"

    @property
    def status(self) -> str:
        return self.controller.connector_status().status


@contextmanager
def controller_rig(
    data: Path,
    config: Config | None = None,
    clock: ManualClock | None = None,
    keep_board_files: bool = False,
) -> Iterator[ControllerRig]:
    """`data` holds the SQLite file and, if kept, the board's files (the meter's count)."""
    clock = clock or ManualClock()
    board = assemble(load_board("bench-sim"), clock.monotonic, data if keep_board_files else None)
    assert isinstance(board.bench, Plant)
    store = Store(data / "pievse.db")
    controller = ChargeController(
        board, config or Config(), clock, SessionLog(store), anyone, ReservationBook(store, clock)
    )
    rig = ControllerRig(clock, board, board.bench, controller)
    controller.limits.register("test", lambda _now: rig.limit_a)
    try:
        yield rig
    finally:
        store.close()
