"""Connector lock actuator with a position feedback switch."""

from __future__ import annotations

from pievse.hal.ports import DigitalIn, DigitalOut


class FeedbackLock:
    def __init__(self, actuator: DigitalOut, feedback: DigitalIn) -> None:
        self._actuator = actuator
        self._feedback = feedback

    def lock(self) -> None:
        self._actuator.write(True)

    def unlock(self) -> None:
        self._actuator.write(False)

    def is_locked(self) -> bool:
        return self._feedback.read()
