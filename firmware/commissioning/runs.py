"""One commissioning run at a time, never while a session charges; the last report kept in
the data directory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pievse.firmware.commissioning.bringup import BringUp, Seams
from pievse.firmware.commissioning.report import load_report, report_document, save_report

log = logging.getLogger(__name__)


class CommissionRefused(Exception):
    """Why a run cannot start now (a session charges, another run is going)."""


class Commissioning:
    def __init__(
        self,
        seams: Seams,
        board_name: str,
        data_dir: Path,
        session_running: Callable[[], bool],
    ) -> None:
        self._seams = seams
        self._board_name = board_name
        self._data_dir = data_dir
        self._session_running = session_running
        self._lock = asyncio.Lock()

    async def run(self) -> dict[str, Any]:
        """Runs the checklist and keeps its report; raises CommissionRefused instead of
        starting while a session charges (the checks drive the pilot and the contactor)."""
        if self._lock.locked():
            raise CommissionRefused("commissioning is already running")
        if self._session_running():
            raise CommissionRefused(
                "a charging session is running: commissioning drives the pilot and the "
                "contactor, so stop the session (and unplug the EV) first"
            )
        async with self._lock:
            clock = self._seams.clock
            started = clock.now()
            log.info("commissioning %s: running the bring-up checklist", self._board_name)
            steps = await BringUp(self._seams).run()
            document = report_document(self._board_name, started, clock.now(), steps)
            path = save_report(self._data_dir, document)
            log.info(
                "commissioning %s: %s (report in %s)", self._board_name, document["result"], path
            )
            return document

    def last(self) -> dict[str, Any] | None:
        return load_report(self._data_dir)
