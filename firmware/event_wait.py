"""Waiting for an asyncio event: with a time-out, without losing a cancellation; or for
the signals that ask a process to stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal


async def wait_set(event: asyncio.Event, timeout_s: float | None) -> bool:
    """True when `event` was set within `timeout_s` (None: no limit), False on time-out.

    `asyncio.wait_for` on Python 3.11 can swallow a cancellation that arrives just as the
    event is set; a service loop around it then never ends and shutdown hangs.
    `asyncio.timeout` passes the cancellation on.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


def stop_requested() -> asyncio.Event:
    """An event SIGINT or SIGTERM sets (where the loop can take signal handlers)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
