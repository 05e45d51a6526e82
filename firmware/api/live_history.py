"""The last minutes of the box for the status page's plot: one point a second (offered and
measured current per phase, power), kept in memory; a page that opens late still draws the
last ten minutes, and then follows the pushed status."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

KEEP_S = 600
EVERY_S = 1.0


def point(status: dict[str, Any], at: float) -> dict[str, Any]:
    meter = status.get("meter") or {}
    currents = meter.get("current_a") or [None, None, None]
    return {
        "t": round(at, 1),
        "offered_a": status["pilot"]["offered_a"],
        "current_a": list(currents),
        "power_w": meter.get("power_w"),
    }


class LiveHistory:
    def __init__(self, status: Callable[[], dict[str, Any]], wall: Callable[[], float] = time.time):
        self._status = status
        self._wall = wall
        self.points: deque[dict[str, Any]] = deque(maxlen=int(KEEP_S / EVERY_S))

    async def run(self) -> None:
        while True:
            self.points.append(point(self._status(), self._wall()))
            await asyncio.sleep(EVERY_S)
