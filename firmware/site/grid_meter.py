"""A grid meter the box polls itself: each answer becomes the site's grid reading; a meter
that stops answering leaves the reading to go stale, and main-fuse protection to its
failsafe."""

from __future__ import annotations

import asyncio
import logging

from pievse.firmware.site.grid_readings import GridReadingError, GridReadings
from pievse.hal.interfaces import EnergyMeter, MeterError

log = logging.getLogger(__name__)
RETRY_S = 1.0


class GridMeterPoller:
    def __init__(
        self,
        meter: EnergyMeter,
        grid: GridReadings,
        interval_s: float,
        silent_until: str | None = None,
    ) -> None:
        """`silent_until`: what a meter that is silent by design waits for (the bench's
        site); its first silence is then said as that, not as a failure."""
        self._meter = meter
        self._grid = grid
        self._interval_s = interval_s
        self._silent_until = silent_until
        self.failures = 0
        self.answered = False

    async def run(self) -> None:
        """While the meter does not answer it is asked at most once a second: a missing
        grid meter must not take the line from the charger's own."""
        while True:
            await self.poll_once()
            pause = self._interval_s if not self.failures else max(self._interval_s, RETRY_S)
            await asyncio.sleep(pause)

    async def poll_once(self) -> None:
        try:
            m = await self._meter.poll()
        except MeterError as exc:
            self.failures += 1
            if self.failures == 1 and self.answered:
                log.warning("grid meter: %s; its reading goes stale", exc)
            elif self.failures == 1 and self._silent_until:
                log.info("grid meter: silent until %s", self._silent_until)
            elif self.failures == 1:
                log.info("grid meter does not answer (%s); waiting for it", exc)
            return
        export_w = None if m.power_w is None else -m.power_w
        try:
            self._grid.feed(list(m.current_a), export_w)
        except GridReadingError as exc:
            log.warning("grid meter reading refused: %s", exc)
            return
        if self.failures:
            log.info("grid meter answers after %d failed polls", self.failures)
        self.failures = 0
        self.answered = True
