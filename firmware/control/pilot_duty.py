"""The duty the pilot runs and how fast it may change: a new duty at most once per
`hold_s` (IEC 61851-1 gives the EV 5 s to follow), stopping the PWM never held."""

from __future__ import annotations

import math

from pievse.firmware.clock import elapsed
from pievse.firmware.control.duty_cycle import current_for_duty

DUTY_EPSILON = 0.05


class PilotDuty:
    def __init__(self, hold_s: float) -> None:
        self._hold_s = hold_s
        self.duty: float | None = None
        """In percent; None for steady +12 V."""
        self.due: float | None = None
        """When a held change may apply (monotonic s); the loop wakes for it."""
        self._changed_at = -math.inf
        self._previous_a = 0.0

    def aim(self, target: float | None, now: float) -> float | None:
        """Moves toward `target` as far as the hold allows; returns the duty to run now."""
        self.due = None
        if target is None:
            if self.duty is not None:
                self._change(None, now)
        elif self.duty is None:
            self._change(target, now)
        elif abs(target - self.duty) > DUTY_EPSILON:
            if elapsed(self._changed_at, now, self._hold_s):
                self._change(target, now)
            else:
                self.due = self._changed_at + self._hold_s
        return self.duty

    def _change(self, duty: float | None, now: float) -> None:
        self._previous_a = self.offered_a
        self.duty = duty
        self._changed_at = now

    @property
    def offered_a(self) -> float:
        """What an EV reads from the duty now (0 while suspended)."""
        return 0.0 if self.duty is None else current_for_duty(self.duty)

    def allowed_a(self, now: float, ev_response_s: float) -> float:
        """The most an EV may draw now: for `ev_response_s` after a change, the higher of
        the old and the new offer, since the EV needs that long to follow."""
        if now - self._changed_at < ev_response_s:
            return max(self.offered_a, self._previous_a)
        return self.offered_a
