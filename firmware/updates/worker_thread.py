"""An update's blocking work (the signature check, the install) in a worker thread that the
job's cancellation stops: nothing installs after its job was canceled."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def in_worker(work: Callable[..., T], *args: Any) -> T:
    """`work(*args, stop)` in a thread; canceling the caller sets `stop` and waits until the
    work has stopped."""
    stop = threading.Event()
    running = asyncio.ensure_future(asyncio.to_thread(work, *args, stop))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.gather(running, return_exceptions=True)
        raise
