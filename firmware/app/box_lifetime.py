"""`pievse run`'s box: started, run until a signal, a failure of its control loop or a
restart it was asked for, and stopped; the restart goes back to the command, which carries
it out (a process of its own is restarted from outside the box)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.event_wait import stop_requested

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restart:
    kind: str
    """Soft, Hard (a CSMS reset) or Firmware (into another release)."""
    executable: str | None
    """For Firmware: the release's program to start instead of this one."""


async def run(options: RunOptions) -> Restart | None:
    """Runs until a signal, a failure or a restart; returns the restart asked for, if any."""
    wallbox = Wallbox(options)
    await wallbox.start()
    stop = stop_requested()
    waiter = asyncio.create_task(wallbox.wait())
    stopper = asyncio.create_task(stop.wait())
    resetter = asyncio.create_task(wallbox.restart_requested.wait())
    await asyncio.wait({waiter, stopper, resetter}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    resetter.cancel()
    log.info("stopping: contactor open, pilot at +12 V")
    await wallbox.stop()
    if waiter.done() and not waiter.cancelled() and waiter.exception():
        raise waiter.exception()  # type: ignore[misc]
    waiter.cancel()
    if wallbox.restart_kind is None:
        return None
    return Restart(wallbox.restart_kind, wallbox.restart_executable())
