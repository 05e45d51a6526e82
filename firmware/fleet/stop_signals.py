"""How a fleet (or one shard of it) is told to stop: SIGINT, SIGTERM or its duration."""

from __future__ import annotations

import asyncio
import signal
from typing import Protocol


class Runs(Protocol):
    async def run(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set, then stops everything it started."""


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def until_stopped(fleet: Runs, duration_s: float | None) -> None:
    stop = stop_on_signals()
    if duration_s is not None:
        asyncio.get_running_loop().call_later(duration_s, stop.set)
    await fleet.run(stop)
