"""How late the fleet's event loop runs: every boxes' timers, meter polls and answers wait
behind whatever the loop is doing, so a late loop makes a box look slow or faulty through
no fault of the CSMS. A sampler sleeps a short period and measures how much later it woke."""

from __future__ import annotations

import asyncio

from pievse.firmware.fleet.latency_histogram import LatencyHistogram

PERIOD_S = 0.1


class LoopLag:
    def __init__(self, period_s: float = PERIOD_S) -> None:
        self._period_s = period_s
        self.latest_s = 0.0
        self.total = LatencyHistogram()
        """Since the start."""
        self.interval = LatencyHistogram()
        """Since the last `new_interval`."""

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self._period_s)
            self.note(loop.time() - before - self._period_s)

    def note(self, lag_s: float) -> None:
        self.latest_s = max(0.0, lag_s)
        self.total.add(self.latest_s)
        self.interval.add(self.latest_s)

    def new_interval(self) -> LatencyHistogram:
        """The interval that ended, for judging it; a new one begins."""
        ended, self.interval = self.interval, LatencyHistogram()
        return ended

    async def calm(self, max_lag_s: float) -> float:
        """Waits until the loop is on time again (a booting fleet gives way to the boxes it
        already runs); returns how long it waited."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while self.latest_s > max_lag_s:
            await asyncio.sleep(self._period_s)
        return loop.time() - started
