"""When a latched fault may clear: each by its own rule (unplugged, input released, retry
time passed, a passed RCD self-test), never by the fault going quiet on its own."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from pievse.firmware.clock import elapsed
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import Board, PilotState

log = logging.getLogger(__name__)
CLEARED_ON_UNPLUG = (Fault.OVERCURRENT, Fault.LOCK, Fault.CONTACTOR_FAILURE)


class FaultRecovery:
    def __init__(
        self,
        board: Board,
        supervisor: SafetySupervisor,
        monotonic: Callable[[], float],
        retry_s: float,
    ) -> None:
        self._board = board
        self._supervisor = supervisor
        self._monotonic = monotonic
        self._retry_s = retry_s
        self._rcd_test_running = False
        self._rcd_test_failed_at = -math.inf

    def recover(self, pilot: PilotState, now: float) -> None:
        supervisor = self._supervisor
        faults = supervisor.faults()
        unplugged = pilot == PilotState.A
        if Fault.RCD in faults and unplugged and not self._board.rcd.tripped():
            self._start_rcd_self_test(now)
        if Fault.DIODE in faults and elapsed(faults[Fault.DIODE], now, self._retry_s):
            supervisor.clear(Fault.DIODE)  # release state F and look again
        if Fault.CONTACTOR_WELD in faults and not supervisor.contactor.is_closed():
            supervisor.clear(Fault.CONTACTOR_WELD)
        phase = supervisor.phase_contactor
        if (
            Fault.PHASE_CONTACTOR in faults
            and unplugged
            and phase is not None
            and phase.is_closed() == phase.commanded_closed
        ):
            supervisor.clear(Fault.PHASE_CONTACTOR)
        tamper = self._board.tamper
        if Fault.TAMPER in faults and tamper is not None and not tamper.opened():
            supervisor.clear(Fault.TAMPER)
        for fault in CLEARED_ON_UNPLUG:
            if fault in faults and unplugged:
                supervisor.clear(fault)
        if Fault.INTERNAL in faults and elapsed(faults[Fault.INTERNAL], now, self._retry_s):
            supervisor.clear(Fault.INTERNAL)

    def _start_rcd_self_test(self, now: float) -> None:
        if self._rcd_test_running or not elapsed(self._rcd_test_failed_at, now, self._retry_s):
            return
        self._rcd_test_running = True

        async def run_test() -> None:
            try:
                passed = await self._supervisor.rcd_self_test()
            finally:
                self._rcd_test_running = False
            if passed:
                self._supervisor.clear(Fault.RCD)
            else:
                self._rcd_test_failed_at = self._monotonic()
                log.warning("RCD self-test failed; the RCD fault stays latched")

        asyncio.get_running_loop().create_task(run_test())
