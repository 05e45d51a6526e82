"""The enclosure's tamper (lid) switch on a digital input: active = opened."""

from __future__ import annotations

from pievse.hal.interfaces import Listener
from pievse.hal.ports import DigitalIn


class LidSwitch:
    def __init__(self, input: DigitalIn) -> None:
        self._input = input

    def opened(self) -> bool:
        return self._input.read()

    def on_change(self, listener: Listener) -> None:
        self._input.on_edge(lambda _level: listener())
