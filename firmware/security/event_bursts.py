"""Repeated security events summed up instead of recorded one by one.

A peer that sends 100 000 invalid frames must not make 100 000 log rows and notifications:
per event type, the first `burst` events of a window pass; the rest are counted, and when
the window ends one summary stands for them (how many, first and last time, the last
event's text). Pure: time comes in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Summary:
    event_type: str
    count: int
    first: datetime
    last: datetime
    last_info: str


@dataclass
class _Window:
    ends_at: float
    passed: int = 1
    held: int = 0
    first: datetime | None = None
    last: datetime | None = None
    last_info: str = ""

    def summary(self, event_type: str) -> Summary:
        assert self.first is not None and self.last is not None
        return Summary(event_type, self.held, self.first, self.last, self.last_info)


class EventBursts:
    def __init__(self, burst: int, window_s: float) -> None:
        self.burst = burst
        self.window_s = window_s
        self._windows: dict[str, _Window] = {}
        self._closed: list[Summary] = []
        """Windows that ended with events held back, closed by a new event of their type
        before `due` was asked."""

    def admit(self, event_type: str, info: str, monotonic: float, wall: datetime) -> bool:
        """True: record this event; False: it is counted into the window's summary."""
        window = self._windows.get(event_type)
        if window is None or monotonic >= window.ends_at:
            if window is not None and window.held:
                self._closed.append(window.summary(event_type))
            self._windows[event_type] = _Window(monotonic + self.window_s)
            return True
        if window.passed < self.burst:
            window.passed += 1
            return True
        window.held += 1
        window.first = window.first or wall
        window.last = wall
        window.last_info = info
        return False

    def due(self, monotonic: float) -> list[Summary]:
        """Summaries of the windows that have ended with events held back; those windows
        close."""
        summaries, self._closed = self._closed, []
        ended = [t for t, w in self._windows.items() if monotonic >= w.ends_at]
        for event_type in ended:
            window = self._windows.pop(event_type)
            if window.held:
                summaries.append(window.summary(event_type))
        return summaries

    def next_due(self) -> float | None:
        """When the next summary is due (monotonic), or None while nothing is held back."""
        if self._closed:
            return float("-inf")
        held = [w.ends_at for w in self._windows.values() if w.held]
        return min(held) if held else None

    def flush(self) -> list[Summary]:
        """Every held-back count now (at shutdown), windows closed."""
        return self.due(float("inf"))
