"""The plot's history: a point a second in memory for ten minutes, a minute's mean in the
store for a week, both served by /api/history?minutes=N, and kept across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pievse.firmware.api.live_history import KEEP_S, LiveHistory, minute_mean
from pievse.firmware.persistence.store import Store
from tests.conftest import BenchClient


class Wall:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def status(amps: float) -> dict[str, Any]:
    return {
        "pilot": {"offered_a": 16.0},
        "meter": {"current_a": [amps, amps, 0.0], "power_w": amps * 460},
    }


def test_a_day_of_points_is_kept_as_minute_means_across_a_restart(tmp_path: Path) -> None:
    wall = Wall()
    store = Store(tmp_path / "pievse.db")
    amps = [0.0]
    history = LiveHistory(lambda: status(amps[0]), store, wall)
    for second in range(3 * 3600):
        amps[0] = 10.0 if (second // 60) % 2 else 0.0
        history.sample()
        wall.t += 1
    assert len(history.points) == KEEP_S, "the memory holds ten minutes"
    day = history.recent(24 * 60)
    stored = day[: -len(history.points)]
    assert 170 <= len(stored) <= 180, "one mean a minute before the memory's ten minutes"
    assert {round(p["current_a"][0]) for p in stored} <= {0, 10}
    assert all(p["offered_a"] == 16.0 for p in stored)
    store.close()
    again = LiveHistory(lambda: status(0.0), Store(tmp_path / "pievse.db"), wall)
    kept = again.recent(24 * 60)
    assert len(kept) == 179, "after a restart the stored minutes (all but the unfinished one)"


def test_a_minute_mean_ignores_missing_readings() -> None:
    points = [
        {"t": 1.0, "offered_a": 6.0, "current_a": [None, None, None], "power_w": None},
        {"t": 2.0, "offered_a": 8.0, "current_a": [4.0, None, 2.0], "power_w": 100.0},
    ]
    assert minute_mean(points) == {
        "t": 2.0, "offered_a": 7.0, "current_a": [4.0, None, 2.0], "power_w": 100.0,
    }  # fmt: skip


@pytest.mark.parametrize("minutes", ["0", "x", "20000"])
async def test_a_bad_window_is_refused(bench: BenchClient, minutes: str) -> None:
    code, answer = await bench.get(f"/api/history?minutes={minutes}")
    assert code == 400 and "minutes must be 1..10080" in answer["error"]


async def test_the_box_serves_its_recent_points(bench: BenchClient) -> None:
    await bench.wait_for(lambda s: True)
    history = bench.wallbox.history
    history.sample()
    code, answer = await bench.get("/api/history?minutes=60")
    assert code == 200 and answer["points"], "the memory's points at least"
