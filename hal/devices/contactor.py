"""Contactor driven by a relay coil output, measured by its auxiliary (mirror) contact."""

from __future__ import annotations

from hal.interfaces import Listener
from hal.ports import DigitalIn, DigitalOut


class RelayContactor:
    def __init__(self, coil: DigitalOut, feedback: DigitalIn | None = None) -> None:
        self._coil = coil
        self._feedback = feedback
        self._commanded = False
        self._coil.write(False)

    def close(self) -> None:
        self._commanded = True
        self._coil.write(True)

    def open(self) -> None:
        self._commanded = False
        self._coil.write(False)

    @property
    def commanded_closed(self) -> bool:
        return self._commanded

    def is_closed(self) -> bool:
        if self._feedback is None:
            return self._commanded
        return self._feedback.read()

    def on_change(self, listener: Listener) -> None:
        if self._feedback is not None:
            self._feedback.on_edge(lambda _level: listener())
