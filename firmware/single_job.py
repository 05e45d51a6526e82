"""One background job of a kind at a time: firmware updates, GetDiagnostics and GetLog.

They share a life: the CSMS's request is accepted in its handler, the job starts once the
CSMS has the answer (`begin`, from the `after` handler), a new request cancels the job under
way (and begins once that one has ended), and `stop` cancels and waits at shutdown. Nobody
awaits these tasks, so an exception a job did not handle itself is logged here instead of
vanishing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)
Job = Callable[[], Coroutine[Any, Any, None]]


class SingleJob:
    def __init__(self, name: str) -> None:
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self._accepted: tuple[str, Job] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def accept(self, job: Job, name: str) -> bool:
        """Cancels the job under way or accepted and not begun yet (True if there was one);
        `job` waits for `begin` with its `name` (the file name its answer gave the CSMS)."""
        canceled = self._cancel() or self._accepted is not None
        self._accepted = (name, job)
        return canceled

    def begin(self, name: str) -> bool:
        """Starts the accepted job if it is the one `name`s (once the CSMS has its answer):
        a request answered meanwhile replaced it, and its own `after` step begins it.
        Whether it started."""
        if self._accepted is None or self._accepted[0] != name:
            return False
        _, job = self._accepted
        self._accepted = None
        self._start(job)
        return True

    def start(self, job: Job) -> bool:
        """Cancels the job under way (True if there was one) and starts `job` now."""
        canceled = self._cancel()
        self._accepted = None
        self._start(job)
        return canceled

    async def stop(self) -> None:
        self._accepted = None
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _cancel(self) -> bool:
        if not self.running:
            return False
        assert self._task is not None
        self._task.cancel()
        log.info("%s canceled by a new request", self._name)
        return True

    def _start(self, job: Job) -> None:
        self._task = asyncio.create_task(self._after(self._task, job), name=self._name)
        self._task.add_done_callback(self._log_failure)

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, job: Job) -> None:
        """`job` once the canceled one has ended: its cleanup (a worker thread that stops,
        a half-made release removed) never runs beside the next job."""
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        await job()

    def _log_failure(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", self._name, exc_info=task.exception())
