"""Safety supervisor: the only code that closes the contactor, and it opens it first.

Trip inputs (RCD, the thermometer's over-temperature output, the contactor's mirror contact)
call in from whatever thread the port delivers edges on; the reaction (contactor open, pilot
to state F) happens right there, synchronously, before the asyncio loop is even woken. No
await, no network, no database on this path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pievse.firmware.control.faults import REPORTS, Fault
from pievse.hal.interfaces import Board, ContactorView, PilotView

log = logging.getLogger(__name__)


class SafetySupervisor:
    def __init__(
        self, board: Board, wake: Callable[[], None], monotonic: Callable[[], float]
    ) -> None:
        self._board = board
        self._wake = wake
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._faults: dict[Fault, float] = {}
        self._weld_check_due: float | None = None
        self._close_check_due: float | None = None
        self._rcd_testing = False
        self._phase_check_due: float | None = None
        self.holding_pilot_f = False
        """The box itself drives state F (a fault, or the pause of a phase switch)."""
        # Safe state before anything else: contactor open, pilot at steady +12 V.
        board.contactor.open()
        board.pilot.set_steady_high()

    @property
    def contactor(self) -> ContactorView:
        """The main contactor, to look at: commanding it is this class's alone."""
        return self._board.contactor

    @property
    def phase_contactor(self) -> ContactorView | None:
        return self._board.phase_contactor

    @property
    def pilot(self) -> PilotView:
        return self._board.pilot

    def keep_contactor_alive(self) -> None:
        """Each control step: where the coil's hold needs pulses, a stalled step drops it."""
        self._board.contactor.keep_alive()

    def watch_inputs(self) -> None:
        board = self._board
        board.rcd.on_change(self._rcd_changed)
        board.thermometer.on_change(self._thermal_alert_changed)
        board.contactor.on_change(self._contactor_feedback_changed)
        if board.phase_contactor is not None:
            board.phase_contactor.on_change(self._phase_feedback_changed)
        board.pilot.on_change(self._wake)
        if board.tamper is not None:
            board.tamper.on_change(self._tamper_changed)
            if board.tamper.opened():
                self.trip(Fault.TAMPER, "enclosure open at start-up")
        if board.rcd.tripped():
            self.trip(Fault.RCD, "RCD trip input active at start-up")
        if board.thermometer.alert_active():
            self.trip(Fault.OVERTEMPERATURE, "over-temperature output active at start-up")
        self._check_weld("at start-up")
        self._phases_disagree("at start-up")

    # --- edge handlers: any thread -------------------------------------------------------

    def _rcd_changed(self) -> None:
        if self._board.rcd.tripped() and not self._rcd_testing:
            self.trip(Fault.RCD, "residual-current monitor tripped")

    def _thermal_alert_changed(self) -> None:
        if self._board.thermometer.alert_active():
            self.trip(Fault.OVERTEMPERATURE, "enclosure over-temperature output active")
        else:
            self._wake()

    def _tamper_changed(self) -> None:
        tamper = self._board.tamper
        if tamper is not None and tamper.opened():
            self.trip(Fault.TAMPER, "enclosure opened (tamper switch)")
        else:
            self._wake()

    def _phase_feedback_changed(self) -> None:
        self._phases_disagree("mirror contact changed on its own")
        self._wake()

    def _contactor_feedback_changed(self) -> None:
        self._check_weld("mirror contact closed while commanded open")
        self._wake()

    # --- commands ------------------------------------------------------------------------

    async def rcd_self_test(self) -> bool:
        """Runs the RCD module's test with the contactor open; its own trip is expected."""
        with self._lock:
            self._board.contactor.open()
            self._rcd_testing = True
        try:
            return await self._board.rcd.self_test()
        finally:
            with self._lock:
                self._rcd_testing = False
            if self._board.rcd.tripped():
                self.trip(Fault.RCD, "RCD still tripped after its self-test")

    def trip(self, fault: Fault, reason: str) -> None:
        with self._lock:
            self._board.contactor.open()
            if REPORTS[fault].pilot_state_f:
                self._board.pilot.set_state_f()
                self.holding_pilot_f = True
            new = fault not in self._faults
            if new:
                self._faults[fault] = self._monotonic()
        if new:
            log.warning("fault %s: %s; contactor opened", fault.value, reason)
        self._wake()

    def clear(self, fault: Fault) -> None:
        with self._lock:
            if self._faults.pop(fault, None) is None:
                return
        log.info("fault %s cleared", fault.value)
        self._wake()

    def faults(self) -> dict[Fault, float]:
        """Active faults with the monotonic time each was raised."""
        with self._lock:
            return dict(self._faults)

    def command_pilot(self, duty_percent: float | None, state_f: bool = False) -> None:
        """PWM at `duty_percent`, or steady +12 V for None, or -12 V with `state_f`; a
        state-F fault overrides them all."""
        with self._lock:
            pilot = self._board.pilot
            fault_f = any(REPORTS[f].pilot_state_f for f in self._faults)
            self.holding_pilot_f = fault_f or state_f
            if self.holding_pilot_f:
                pilot.set_state_f()
            elif duty_percent is None:
                pilot.set_steady_high()
            else:
                pilot.set_duty(duty_percent)

    def close_contactor(self, operate_s: float) -> bool:
        """Closes only with no fault active, no RCD test and no weld; returns whether it closed.
        The mirror contact must confirm within `operate_s` (see check_close_confirmed)."""
        with self._lock:
            if self._faults or self._rcd_testing:
                return False
            if self._check_weld("before closing") or self._phases_disagree("before closing"):
                return False
            self._board.contactor.close()
            self._close_check_due = self._monotonic() + operate_s
            return True

    def switch_phases(self, three: bool, operate_s: float) -> bool:
        """Switches the phase contactor (closed: L2 and L3 in) only while the main contactor
        is open, commanded and measured: never under load. Returns whether it switched."""
        phase = self._board.phase_contactor
        with self._lock:
            main = self._board.contactor
            if phase is None or main.commanded_closed or main.is_closed():
                return False
            if three:
                phase.close()
            else:
                phase.open()
            self._phase_check_due = self._monotonic() + operate_s
            return True

    def check_phases_confirmed(self) -> None:
        """Called each tick: once its operate time has passed, the phase contactor's mirror
        must agree with its command, or the EV may get other phases than the box counts."""
        with self._lock:
            due = self._phase_check_due
            if due is None or self._monotonic() < due:
                return
            self._phase_check_due = None
        self._phases_disagree("mirror contact disagrees after switching")

    def _phases_disagree(self, reason: str) -> bool:
        phase = self._board.phase_contactor
        if phase is None or self._phase_check_due is not None:
            return False
        if phase.commanded_closed == phase.is_closed():
            return False
        state = "closed" if phase.is_closed() else "open"
        self.trip(Fault.PHASE_CONTACTOR, f"phase contactor reads {state}: {reason}")
        return True

    def check_close_confirmed(self) -> None:
        """Called each tick: a coil that does not pull in (or a broken mirror) is a fault."""
        with self._lock:
            due = self._close_check_due
            contactor = self._board.contactor
            if due is None or self._monotonic() < due:
                return
            self._close_check_due = None
            failed = contactor.commanded_closed and not contactor.is_closed()
        if failed:
            self.trip(Fault.CONTACTOR_FAILURE, "contactor commanded closed but reads open")

    def open_contactor(self, release_s: float) -> None:
        with self._lock:
            was_commanded = self._board.contactor.commanded_closed
            self._board.contactor.open()
            if was_commanded:
                self._weld_check_due = self._monotonic() + release_s

    def check_weld_after_open(self) -> None:
        """Called each tick: once the release time has passed, the contacts must read open."""
        with self._lock:
            due = self._weld_check_due
            if due is None or self._monotonic() < due:
                return
            self._weld_check_due = None
        self._check_weld("contacts still closed after opening")

    def _check_weld(self, reason: str) -> bool:
        contactor = self._board.contactor
        if not contactor.commanded_closed and contactor.is_closed():
            self.trip(Fault.CONTACTOR_WELD, reason)
            return True
        return False
