"""Residual-current monitor (RCD / RDC-DD module) with a trip output and a test input."""

from __future__ import annotations

import asyncio

from pievse.hal.interfaces import Listener
from pievse.hal.ports import DigitalIn, DigitalOut


class TripInputRcd:
    def __init__(
        self, trip: DigitalIn, test: DigitalOut | None = None, test_settle_s: float = 0.05
    ) -> None:
        self._trip = trip
        self._test = test
        self._settle_s = test_settle_s
        if test is not None:
            test.write(False)

    def tripped(self) -> bool:
        return self._trip.read()

    def on_change(self, listener: Listener) -> None:
        self._trip.on_edge(lambda _level: listener())

    async def self_test(self) -> bool:
        """Inject the module's test current: it must trip, then release when the test ends."""
        if self._test is None:
            return not self._trip.read()
        self._test.write(True)
        try:
            await asyncio.sleep(self._settle_s)
            tripped_under_test = self._trip.read()
        finally:
            self._test.write(False)
        await asyncio.sleep(self._settle_s)
        return tripped_under_test and not self._trip.read()
