"""Contactor driven by a relay coil output, measured by its auxiliary (mirror) contact.

With a `keepalive` output the coil is wired through a retriggerable monostable (see
docs/hardware.md): each control step toggles the output while the contactor is meant to be
closed, and when the steps stop (the process died or hung, while GPIO and PWM keep their last
state) the monostable times out and the coil drops.
"""

from __future__ import annotations

from pievse.hal.interfaces import Listener
from pievse.hal.ports import DigitalIn, DigitalOut


class RelayContactor:
    closes_only_with_ev = False

    def __init__(
        self,
        coil: DigitalOut,
        feedback: DigitalIn | None = None,
        keepalive: DigitalOut | None = None,
    ) -> None:
        self._coil = coil
        self._feedback = feedback
        self._keepalive = keepalive
        self._pulse = False
        self._commanded = False
        self._coil.write(False)
        if keepalive is not None:
            keepalive.write(False)

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

    def keep_alive(self) -> None:
        if self._keepalive is not None and self._commanded:
            self._pulse = not self._pulse
            self._keepalive.write(self._pulse)
