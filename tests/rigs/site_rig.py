"""A home energy system for the site tests: it puts the grid reading the box would see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from tests.conftest import BenchClient

Reading = Callable[[dict[str, Any]], dict[str, Any]]
"""The box's status -> the body of `PUT /api/site/grid`."""


@contextlib.asynccontextmanager
async def _feeding(bench: BenchClient, reading: Reading, every_s: float) -> AsyncIterator[None]:
    async def feed() -> None:
        while True:
            code, answer = await bench.put("/api/site/grid", reading(await bench.status()))
            assert code == 200, answer
            await asyncio.sleep(every_s)

    task = asyncio.create_task(feed())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def sunny(bench: BenchClient, pv_w: float, house_w: float) -> AsyncIterator[dict[str, float]]:
    """A grid meter: export = PV - house - what the box draws, put every 0.1 s."""
    day = {"pv_w": pv_w, "house_w": house_w}

    def reading(status: dict[str, Any]) -> dict[str, Any]:
        own = status["meter"].get("power_w") or 0.0
        return {"current_a": [0, 0, 0], "export_w": day["pv_w"] - day["house_w"] - own}

    async with _feeding(bench, reading, 0.1):
        yield day


@contextlib.asynccontextmanager
async def house(bench: BenchClient, load_a: list[float]) -> AsyncIterator[list[float]]:
    """A grid meter that reads the house's `load_a` plus what the box draws, every 0.2 s;
    the test changes the list to change the house."""

    def reading(status: dict[str, Any]) -> dict[str, Any]:
        own = [c or 0.0 for c in status["meter"].get("current_a") or (0.0, 0.0, 0.0)]
        return {"current_a": [h + o for h, o in zip(load_a, own, strict=True)]}

    async with _feeding(bench, reading, 0.2):
        yield load_a
