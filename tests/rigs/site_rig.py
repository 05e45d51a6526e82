"""A home energy system for the site tests: it puts the grid reading the box would see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

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
