"""What the status page's plot draws: one point a second (offered and measured current per
phase, power) for the last ten minutes in memory, and one a minute (the minute's mean) in
the store for a week, so a page can look back over a day after a restart too."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pievse.firmware.persistence.store import Store

KEEP_S = 600
EVERY_S = 1.0
STORED_EVERY_S = 60.0
STORED_FOR_S = 7 * 86_400
MAX_MINUTES = STORED_FOR_S // 60


def point(status: dict[str, Any], at: float) -> dict[str, Any]:
    meter = status.get("meter") or {}
    currents = meter.get("current_a") or [None, None, None]
    return {
        "t": round(at, 1),
        "offered_a": status["pilot"]["offered_a"],
        "current_a": list(currents),
        "power_w": meter.get("power_w"),
    }


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return None if not known else round(statistics.fmean(known), 2)


def minute_mean(points: list[dict[str, Any]]) -> dict[str, Any]:
    """One point for a minute of them: the mean of each series, at the minute's last time."""
    return {
        "t": points[-1]["t"],
        "offered_a": _mean([p["offered_a"] for p in points]),
        "current_a": [_mean([(p["current_a"] or [None] * 3)[i] for p in points]) for i in range(3)],
        "power_w": _mean([p["power_w"] for p in points]),
    }


class LiveHistory:
    def __init__(
        self,
        status: Callable[[], dict[str, Any]],
        store: Store | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._status = status
        self._store = store
        self._wall = wall
        self.points: deque[dict[str, Any]] = deque(maxlen=int(KEEP_S / EVERY_S))
        self._minute: list[dict[str, Any]] = []

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(EVERY_S)

    def sample(self) -> None:
        latest = point(self._status(), self._wall())
        self.points.append(latest)
        if self._store is None:
            return
        if self._minute and latest["t"] - self._minute[0]["t"] >= STORED_EVERY_S:
            self._keep(minute_mean(self._minute))
            self._minute = []
        self._minute.append(latest)

    def _keep(self, mean: dict[str, Any]) -> None:
        assert self._store is not None
        l1, l2, l3 = mean["current_a"]
        with self._store.atomic():
            self._store.db.execute(
                "INSERT OR REPLACE INTO plot_history VALUES (?, ?, ?, ?, ?, ?)",
                (mean["t"], mean["offered_a"], l1, l2, l3, mean["power_w"]),
            )
            self._store.db.execute(
                "DELETE FROM plot_history WHERE t < ?", (mean["t"] - STORED_FOR_S,)
            )

    def recent(self, minutes: int) -> list[dict[str, Any]]:
        """The last `minutes`: the stored minutes before the memory's, then the memory's."""
        since = self._wall() - minutes * 60
        memory = [p for p in self.points if p["t"] >= since]
        if self._store is None or minutes * 60 <= KEEP_S:
            return memory
        first = memory[0]["t"] if memory else self._wall()
        rows = self._store.db.execute(
            "SELECT t, offered_a, l1_a, l2_a, l3_a, power_w FROM plot_history"
            " WHERE t >= ? AND t < ? ORDER BY t",
            (since, first),
        ).fetchall()
        stored = [
            {"t": t, "offered_a": offered, "current_a": [l1, l2, l3], "power_w": power}
            for t, offered, l1, l2, l3, power in rows
        ]
        return stored + memory
