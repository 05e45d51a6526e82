"""The charge controller alone on the bench-sim board, stepped by hand on a manual clock:
no task, no sleeping, every tick the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
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
from pievse.hal.interfaces import Board, Measurements
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
        """One control step and its listeners, as the loop runs them."""
        self.clock.advance(seconds)
        self.controller.step()
        for listener in self.controller.step_listeners:
            listener()

    async def start_charging(self) -> None:
        """An EV plugs in, a card authorizes it and it asks for power: the contactor closes."""
        self.plant.set_ev("B", None, None)
        await self.controller.sessions.present_tag("CARD")
        self.step()
        self.plant.set_ev("C", None, None)
        self.step()
        assert self.contactor == "closed"

    def read_meter(self) -> Measurements:
        """One poll of the plant's ideal meter, as the meter task would hand it over."""
        v = self.plant.meter_values()
        phases = (1, 2, 3)
        m = Measurements(
            timestamp=datetime.now(UTC),
            voltage_v=tuple(v[f"Voltage/L{i}-N"] for i in phases),  # type: ignore[arg-type]
            current_a=tuple(v[f"Current.Import/L{i}"] for i in phases),  # type: ignore[arg-type]
            power_phase_w=tuple(v[f"Power.Active.Import/L{i}"] for i in phases),  # type: ignore[arg-type]
            power_factor_phase=tuple(v[f"Power.Factor/L{i}"] for i in phases),  # type: ignore[arg-type]
            power_w=v["Power.Active.Import"],
            power_factor=v["Power.Factor"],
            frequency_hz=v["Frequency"],
            energy_import_wh=v["Energy.Active.Import.Register"],
        )
        self.controller.meter.measurements = m
        return m

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
