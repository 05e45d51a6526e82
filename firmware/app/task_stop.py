"""The end of a box's tasks at its stop: each is cancelled, and one that swallows its
cancellation is named with where it hangs instead of holding the stop up."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


async def cancel_all(tasks: Sequence[asyncio.Task[None]], timeout_s: float) -> None:
    """Returns once every task ended or `timeout_s` passed; a task still running then is
    logged with its stack and left behind."""
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=timeout_s) if tasks else (set(), set())
    for task in stuck:
        where = io.StringIO()
        task.print_stack(file=where)
        log.error(
            "task %s did not stop within %.0f s:\n%s", task.get_name(), timeout_s, where.getvalue()
        )
