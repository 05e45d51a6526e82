"""A stand-in for the RPi.GPIO module, installed in sys.modules by the `gpio` fixture.

Inputs are driven from the test; edge callbacks run on their own thread, as RPi.GPIO runs
them, and `drive` returns once they have run.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class PinState:
    direction: int
    level: int
    pull: int = 20
    callback: Callable[[int], None] | None = None
    bouncetime: int | None = None
    writes: list[int] = field(default_factory=list)


class FakeGpio(types.ModuleType):
    BCM, BOARD = 11, 10
    OUT, IN = 0, 1
    HIGH, LOW = 1, 0
    PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22
    RISING, FALLING, BOTH = 31, 32, 33

    def __init__(self) -> None:
        super().__init__("RPi.GPIO")
        self.mode: int | None = None
        self.pins: dict[int, PinState] = {}
        self.wired: dict[int, int] = {}
        """Levels the outside world holds on inputs before the process sets them up."""
        self.edge_threads: list[str] = []

    def setwarnings(self, _flag: bool) -> None:
        pass

    def setmode(self, mode: int) -> None:
        self.mode = mode

    def getmode(self) -> int | None:
        return self.mode

    def setup(self, pin: int, direction: int, pull_up_down: int = 20, initial: int = -1) -> None:
        if self.mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode")
        if direction == self.OUT:
            level = 0 if initial == -1 else initial
            self.pins[pin] = PinState(direction, level, writes=[level])
        else:
            pulled = 1 if pull_up_down == self.PUD_UP else 0
            self.pins[pin] = PinState(direction, self.wired.get(pin, pulled), pull_up_down)

    def output(self, pin: int, level: int) -> None:
        state = self.pins.get(pin)
        if state is None or state.direction != self.OUT:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        state.level = level
        state.writes.append(level)

    def input(self, pin: int) -> int:
        return self.pins[pin].level

    def add_event_detect(
        self, pin: int, edge: int, callback: Callable[[int], None], bouncetime: int | None = None
    ) -> None:
        state = self.pins[pin]
        if state.direction != self.IN or edge != self.BOTH:
            raise RuntimeError("Failed to add edge detection")
        state.callback = callback
        state.bouncetime = bouncetime

    # --- the test's side ----------------------------------------------------------------

    def drive(self, pin: int, level: int) -> None:
        """The outside world sets an input; its edge callback runs on another thread."""
        state = self.pins[pin]
        if state.level == level:
            return
        state.level = level
        if state.callback is not None:
            thread = threading.Thread(target=state.callback, args=(pin,), name="gpio-edges")
            thread.start()
            thread.join()
            self.edge_threads.append(thread.name)

    def level(self, pin: int) -> int:
        return self.pins[pin].level


@pytest.fixture
def gpio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGpio]:
    fake = FakeGpio()
    package = types.ModuleType("RPi")
    package.GPIO = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "RPi", package)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", fake)
    yield fake
