"""The duty the pilot runs and how fast it may change. A decrease applies at once (a fuse or
a site must not stay overloaded for the hold); a raise waits until `hold_s` (IEC 61851-1
gives the EV 5 s to follow) has passed since the last change of either kind; stopping the
PWM is never held."""

from __future__ import annotations

import math
from collections import deque

from pievse.firmware.clock import elapsed
from pievse.firmware.control.duty_cycle import current_for_duty

DUTY_EPSILON = 0.05
REMEMBERED_CHANGES = 16


class PilotDuty:
    def __init__(self, hold_s: float) -> None:
        self._hold_s = hold_s
        self.duty: float | None = None
        """In percent; None for steady +12 V."""
        self.due: float | None = None
        """When a held raise may apply (monotonic s); the loop wakes for it."""
        self._changed_at = -math.inf
        self._before: deque[tuple[float, float]] = deque(maxlen=REMEMBERED_CHANGES)
        """(when, the offer before that change): what an EV may still be drawing."""

    def aim(self, target: float | None, now: float) -> float | None:
        """Moves toward `target` as far as the hold allows; returns the duty to run now."""
        self.due = None
        if target is None:
            if self.duty is not None:
                self._change(None, now)
        elif self.duty is None or target < self.duty - DUTY_EPSILON:
            self._change(target, now)
        elif target > self.duty + DUTY_EPSILON:
            if elapsed(self._changed_at, now, self._hold_s):
                self._change(target, now)
            else:
                self.due = self._changed_at + self._hold_s
        return self.duty

    def _change(self, duty: float | None, now: float) -> None:
        self._before.append((now, self.offered_a))
        self.duty = duty
        self._changed_at = now

    @property
    def offered_a(self) -> float:
        """What an EV reads from the duty now (0 while suspended)."""
        return 0.0 if self.duty is None else current_for_duty(self.duty)

    def allowed_a(self, now: float, ev_response_s: float) -> float:
        """The most an EV may draw now: the highest offer it was given within the last
        `ev_response_s`, since it needs that long to follow each change."""
        recent = (before for at, before in self._before if now - at < ev_response_s)
        return max(self.offered_a, *recent, 0.0)
