"""The safety core's own thread and event loop: nothing the outside loop runs (a flood of
frames to validate, a thousand event streams, a signature check) can take its turn.

Why a thread and not yet a process: the devices, the supervisor and the session keeper share
in-memory state with the outside today (the keeper reads the meter, the status document reads
the supervisor), and a thread moves the core's timing out of the outside loop's hands without
serialising that state. What a thread does not bound is the GIL: Python code in the other
thread holds it for at most `sys.getswitchinterval()` before the core's thread gets it, and C
code that releases it (hashing, SQLite, socket I/O) does not hold it at all. A reaction hands
the GIL back and forth several times (the pilot read, the supervisor, the contactor and PWM
writes), each wait up to that interval: the core's start lowers it from Python's 5 ms to
`SWITCH_INTERVAL_S` for the process, which costs the outside loop a little throughput. A process
would add a separate heap (memory bounded, a crash of the outside half cannot take the core
with it) and no shared GIL; the boundary (`core_boundary`) is already what a process would
send over a pipe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
JOIN_S = 5.0
SWITCH_INTERVAL_S = 0.001
T = TypeVar("T")


def call_on(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Thread-safe; once the core's loop closed the call is dropped."""
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:
        log.debug("core loop closed; call dropped")


class CoreThread:
    """One thread whose life is one coroutine (`main`) on its own event loop."""

    inline = False
    """The core runs on another thread: the outside hands it work and may wait for it."""

    def __init__(
        self, main: Callable[[], Coroutine[Any, Any, None]], name: str = "safety-core"
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.done: concurrent.futures.Future[None] = concurrent.futures.Future()
        """Resolved when `main` ended: its exception, or None."""
        self._main = main
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread.start()
        self._started.wait()

    def _serve(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        self._task = loop.create_task(self._main(), name="safety-core")
        loop.call_soon(self._started.set)
        outcome: BaseException | None = None
        try:
            loop.run_until_complete(self._task)
        except BaseException as exc:  # the outside learns how the core ended
            outcome = exc
        finally:
            if not self.done.done():  # the outside may have given up waiting
                self.done.set_exception(outcome) if outcome else self.done.set_result(None)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Thread-safe; once the core ended the call is dropped."""
        call_on(self.loop, callback)

    async def run_coroutine(self, work: Coroutine[Any, Any, T]) -> T:
        """Runs `work` on the core's loop and waits for it there: the devices' buses and
        locks belong to that loop, and a device read from the outside's would interleave
        with the core's own (an ADC's conversion, a Modbus transaction)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def cancel(self) -> None:
        task = self._task
        if task is not None:
            self.call_soon(task.cancel)

    def join(self) -> None:
        self._thread.join(JOIN_S)
        if self._thread.is_alive():
            log.error("the safety core's thread did not end within %.0f s", JOIN_S)


class CoreOnLoop:
    """The core as a task on the caller's own loop, for a fleet's boxes: hundreds of boxes in
    one process would otherwise be hundreds of threads contending for one GIL, and a fleet
    measures a CSMS, not a box's reaction time. Same interface as `CoreThread`; `inline`
    tells the core that a hand-over runs at once (waiting for it would stall the loop it
    runs on)."""

    inline = True

    def __init__(
        self, main: Callable[[], Coroutine[Any, Any, None]], name: str = "safety-core"
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._main = main
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = self.loop.create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        try:
            await self._main()
        except BaseException as exc:  # the outside learns how the core ended
            if not self.done.done():
                self.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if not self.done.done():
            self.done.set_result(None)

    def call_soon(self, callback: Callable[[], object]) -> None:
        call_on(self.loop, callback)

    async def run_coroutine(self, work: Coroutine[Any, Any, T]) -> T:
        """The core's loop is the caller's."""
        return await work

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def join(self) -> None:
        """Nothing to join: the task ends with its loop's turn after `cancel`."""
