"""A home energy system for the site tests: it puts the grid reading the box would see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tests.conftest import BenchClient


@contextlib.asynccontextmanager
async def sunny(bench: BenchClient, pv_w: float, house_w: float) -> AsyncIterator[dict[str, float]]:
    """A grid meter: export = PV - house - what the box draws, put every 0.1 s."""
    day = {"pv_w": pv_w, "house_w": house_w}

    async def feed() -> None:
        while True:
            own = (await bench.status())["meter"].get("power_w") or 0.0
            export = day["pv_w"] - day["house_w"] - own
            code, answer = await bench.put(
                "/api/site/grid", {"current_a": [0, 0, 0], "export_w": export}
            )
            assert code == 200, answer
            await asyncio.sleep(0.1)

    task = asyncio.create_task(feed())
    try:
        yield day
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _own(status: dict[str, Any]) -> list[float]:
    return [c or 0.0 for c in status["meter"].get("current_a") or (0.0, 0.0, 0.0)]


@contextlib.asynccontextmanager
async def house(bench: BenchClient, load_a: list[float]) -> AsyncIterator[list[float]]:
    """A grid meter that reads the house's `load_a` plus what the box draws, every 0.2 s;
    the test changes the list to change the house."""

    async def feed() -> None:
        while True:
            own = _own(await bench.status())
            grid = [h + o for h, o in zip(load_a, own, strict=True)]
            code, answer = await bench.put("/api/site/grid", {"current_a": grid})
            assert code == 200, answer
            await asyncio.sleep(0.2)

    task = asyncio.create_task(feed())
    try:
        yield load_a
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
