"""The charge controller in two halves that meet only at `core_boundary`.

The core (its own thread and loop, `core_thread`) wakes on every event and on a fixed tick,
checks the inputs, arbitrates the limits and applies the IEC 61851-1 table (`iec61851`) to
pilot and contactor; it owns the devices, the supervisor and the meter's polls. The outside
turn (on the caller's loop, after every core step) lets the `SessionKeeper` follow the pilot,
writes what SQLite must hold, collects the outside limit sources and tells the core, then
tells the step listeners. Safety reactions do not wait for either: the supervisor opens the
contactor inside the edge callback. Duty decreases apply at once; raises are held to one per
`duty_hold_s`.

Tests step both halves in order on one thread (`step`), on an injected clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pievse.firmware.clock import Clock
from pievse.firmware.config import Config
from pievse.firmware.control.connector_status import (
    ConnectorStatus,
    StatusInputs,
    box_status,
    connector_status,
)
from pievse.firmware.control.core_boundary import (
    DEFAULT_FAILSAFE_A,
    CoreInputs,
    CoreState,
    CoreView,
    OutsideLimit,
)
from pievse.firmware.control.core_publication import CorePublication
from pievse.firmware.control.core_thread import CoreOnLoop, CoreThread
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.limits import LimitSources
from pievse.firmware.control.listeners import ListenerGuard
from pievse.firmware.control.safety_core import SETTLE_S, SafetyCore
from pievse.firmware.control.session_keeper import (
    Authorize,
    SessionKeeper,
    SessionPolicy,
    SessionSeams,
)
from pievse.firmware.control.tag_reading import TagReaderWatch
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.firmware.session.stop_reasons import StopReason
from pievse.hal.interfaces import Board, Measurements, PilotState

log = logging.getLogger(__name__)
T = TypeVar("T")
LED_COLOURS = {"Available": "green", "Charging": "blue", "Faulted": "red"}
UNLOCK_CONFIRM_S = 2.0


class ChargeController(CorePublication):
    """The outside's handle on the charger: the session keeper, the outside limit sources
    and the listeners, and what the core last published (`CorePublication`). Only the core
    (`SafetyCore`, on its own thread) commands pilot and contactor; `sessions.listeners`,
    `step_listeners` and named `limits` are where OCPP, energy management and the UI plug
    in, all called on the outside loop."""

    def __init__(
        self,
        board: Board,
        config: Config,
        clock: Clock,
        sessions: SessionLog,
        authorize: Authorize,
        reservations: ReservationBook,
        *,
        core_on_own_thread: bool = True,
    ) -> None:
        """`core_on_own_thread` False: the core runs as a task on the caller's loop (a
        fleet's boxes; see `CoreOnLoop`)."""
        self._core_runner = CoreThread if core_on_own_thread else CoreOnLoop
        self._board = board
        self._clock = clock
        self.reservations = reservations
        self.policy = SessionPolicy(
            config.control.connection_timeout_s,
            resume_after_power_loss=config.control.resume_after_power_loss,
        )
        self.step_listeners: list[Callable[[], None]] = []
        """Called on the outside loop after every outside turn."""
        self.limit_failsafes: dict[str, Callable[[], float]] = {}
        """Outside limit sources' own failsafes, asked on every outside turn (a site share's
        depends on the house); the others fall to `DEFAULT_FAILSAFE_A`."""
        self.guard = ListenerGuard()
        self.core = SafetyCore(board, config, clock, self.guard)
        self.supervisor = self.core.supervisor
        self.phases = self.core.phases
        """The core's own, as `meter` is: the core and tests that step it reach into them;
        the outside reads `state.phases` and asks `request_phases`."""
        self.meter = self.core.meter
        self._has_led = board.led is not None
        self._has_lock = board.lock is not None
        self._outside_loop: asyncio.AbstractEventLoop | None = None
        self._turn_due = False
        self._settled = False  # until the sessions left open are, no turn starts another
        self.limits = LimitSources(clock.monotonic)
        self._reserved = False
        self._noted: Measurements | None = None
        self._unplugs_seen = 0
        self.sessions = self._keeper(config, clock, sessions, authorize, reservations)
        self._tag_reader = (
            None
            if board.tag_reader is None
            else TagReaderWatch(board.tag_reader, self.sessions.present_tag, self.wake)
        )

    def _keeper(
        self,
        config: Config,
        clock: Clock,
        sessions: SessionLog,
        authorize: Authorize,
        reservations: ReservationBook,
    ) -> SessionKeeper:
        seams = SessionSeams(self.wake, self._step_now, self.supervisor)
        return SessionKeeper(
            config,
            self.policy,
            clock,
            sessions,
            authorize,
            reservations,
            self.meter,
            seams,
            self.guard,
        )

    # --- which thread does what ----------------------------------------------------------

    def wake(self) -> None:
        """Something outside changed (a tag, availability, a limit source): an outside turn
        tells the core soon. Thread-safe."""
        loop = self._outside_loop
        if loop is None:
            self.core.wake()
            return
        with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
            loop.call_soon_threadsafe(self._turn_soon)

    def _turn_soon(self) -> None:
        if not self._turn_due:
            self._turn_due = True
            asyncio.get_running_loop().call_soon(self._outside_turn)

    def _step_now(self) -> None:
        """A stop must withdraw the offer now, not at the next tick."""
        if self.core.thread is None:
            self._guarded_step()
        else:
            self._outside_turn()

    async def run(self) -> None:
        """The core on its own thread until it fails or this is cancelled; the outside turns
        on the caller's loop."""
        loop = asyncio.get_running_loop()
        self._outside_loop = loop
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._settled = False
        left_open = self.sessions.prepare_first_reading()
        core = self.core
        thread = self._core_runner(
            lambda: core.main(started, lambda: self.sessions.first_meter_reading(bool(left_open)))
        )
        core.thread = thread
        core.after_step = self.wake
        tags = []
        if self._tag_reader is not None:
            tags.append(asyncio.create_task(self._tag_reader.run(), name="tags"))
        thread.start()
        try:
            ended = asyncio.wrap_future(thread.done)
            await asyncio.wait({asyncio.wrap_future(started), ended}, return_when="FIRST_COMPLETED")
            if not ended.done():
                self.sessions.settle_left_open(core.state.pilot.state, left_open)
                self._settled = True
                self._outside_turn()
                thread.call_soon(core.go.set)
            await ended
        finally:
            for task in tags:
                task.cancel()
            await asyncio.gather(*tags, return_exceptions=True)
            thread.cancel()
            await asyncio.to_thread(thread.join)
            core.thread = None
            core.after_step = lambda: None
            self._outside_loop = None

    def shutdown(self) -> None:
        self.core.shutdown()

    def shut_down_session(self, reason: StopReason) -> None:
        """A clean stop: the session ends with `reason`, the connectors turn Unavailable and
        the core withdraws the offer before this returns."""
        self.sessions.shut_down(reason)
        self._step_now()

    # --- the outside's turn --------------------------------------------------------------

    def _outside_turn(self) -> None:
        """On the outside loop: sessions follow the pilot, the core is told (and, if that
        was news, steps on it before the listeners look), listeners run."""
        self._turn_due = False
        try:
            if self._settled:
                self._follow(self._clock.monotonic(), self.core.state)
        except Exception:
            log.exception("session step failed; contactor opened")
            self.supervisor.trip(Fault.INTERNAL, "session step failed")
        self._tell_core(SETTLE_S)
        self.guard.tell(self.step_listeners, lambda listener: listener())

    def _follow(self, now: float, state: CoreState | CoreView) -> None:
        self._reserved = self.reservations.current() is not None
        if state.unplugs != self._unplugs_seen:  # even if plugged in again meanwhile
            self._unplugs_seen = state.unplugs
            self.sessions.follow(PilotState.A, now)
        self.sessions.follow(state.pilot.state, now)
        m = state.measurements
        if m is not None and m is not self._noted:
            self._noted = m
            self.sessions.note_reading(m)

    def _tell_core(self, settle_s: float = 0.0) -> None:
        keeper = self.sessions
        imposed = {
            limit.source: limit.current_a for limit in self.limits.collect(self._clock.now())
        }
        self.core.tell(
            CoreInputs(
                told_at=self._clock.monotonic(),
                in_session=keeper.session is not None,
                finishing=keeper.finishing,
                blocked=keeper.blocked,
                unlock_on_unplug=self.policy.unlock_on_ev_disconnect,
                sessions_ended=keeper.ended,
                limits=tuple(
                    OutsideLimit(name, imposed.get(name), self._failsafe_a(name))
                    for name in self.limits.names()
                ),
                led_colour=self._led_colour(),
            ),
            settle_s,
        )

    def _failsafe_a(self, source: str) -> float:
        failsafe = self.limit_failsafes.get(source)
        return DEFAULT_FAILSAFE_A if failsafe is None else failsafe()

    def _led_colour(self) -> str | None:
        """The colour for the statuses now; the core shows it (the LED is its device). A
        status the core's step changes reaches the LED with the outside turn after it."""
        if not self._has_led:
            return None
        box, connector = self.statuses()
        return "red" if box.status == "Faulted" else LED_COLOURS.get(connector.status, "yellow")

    # --- both halves in order on one thread, as tests step them ---------------------------

    def _guarded_step(self) -> None:
        try:
            self.step()
        except Exception:
            log.exception("control step failed; contactor opened")
            self.supervisor.trip(Fault.INTERNAL, "control step failed")
        self.guard.tell(self.step_listeners, lambda listener: listener())

    def step(self) -> None:
        core = self.core
        now = self._clock.monotonic()
        core.sense(now)
        self._follow(now, core.view())
        self._tell_core()
        core.act(now)
        core.show_led()
        core.publish(now)

    def core_step(self) -> None:
        """The core's step alone, on the outside's last word: what runs while the outside
        is silent (tests stall it so)."""
        self.core.step()

    # --- what the outside sees beyond the core's publication -----------------------------

    @property
    def held(self) -> bool:
        """Commissioning drives the outputs: each core step checks the inputs and keeps the
        contactor alive, but follows no session and drives nothing."""
        return self.core.held

    async def run_on_core(self, work: Coroutine[Any, Any, T]) -> T:
        """Runs `work` on the core's loop, where the devices live (commissioning's checks)."""
        thread = self.core.thread
        return await (work if thread is None else thread.run_coroutine(work))

    async def hold(self, held: bool) -> None:
        """Sets `held` on the core's own thread, between two of its steps, and returns once
        it is set there: a step already past its check would otherwise still drive the
        pilot after commissioning took it over."""

        async def on_core() -> None:
            self.core.held = held
            self.core.wake()

        await self.run_on_core(on_core())

    def _status_inputs(self) -> StatusInputs:
        """The core's publication, except what a trip changes inside an edge callback
        before the core steps again (the faults, under the supervisor's lock; the mirror
        contact): those are read as they are now."""
        keeper = self.sessions
        state = self.core.state
        return StatusInputs(
            pilot_state=state.pilot.state,
            in_session=keeper.session is not None,
            finishing=keeper.finishing,
            pwm_active=state.duty is not None,
            contactor_closed=self.contactor_closed,
            faults=frozenset(self.supervisor.faults()),
            meter_flagged=state.meter_flagged,
            awaiting_ev=keeper.authorized_tag is not None,
            reserved=self._reserved,
            reader_failed=self._tag_reader is not None and self._tag_reader.failed,
            box_operative=keeper.operative[0],
            connector_operative=keeper.operative[1],
            degraded=self.limits.degraded(),
        )

    def connector_status(self) -> ConnectorStatus:
        return connector_status(self._status_inputs())

    def box_status(self) -> ConnectorStatus:
        return box_status(self._status_inputs())

    def statuses(self) -> tuple[ConnectorStatus, ConnectorStatus]:
        """(box, connector) from one look at the inputs, for a listener that needs both
        after every step."""
        inputs = self._status_inputs()
        return box_status(inputs), connector_status(inputs)

    @property
    def session(self) -> Session | None:
        return self.sessions.session

    def unlock_connector(self) -> bool:
        """UnlockConnector: stops a running session first. False when there is no lock."""
        self.sessions.stop_session(StopReason.UNLOCK_COMMAND)
        if not self._has_lock:
            return False
        self.core.call(self.core.unlock)
        return True

    async def unlock_confirmed(self, within_s: float = UNLOCK_CONFIRM_S) -> bool | None:
        """UnlockConnector as the CSMS asks it: None for a box without a lock, else whether
        the lock reported itself open within `within_s`."""
        if not self.unlock_connector():
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while self.connector_locked() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return not self.connector_locked()

    def connector_locked(self) -> bool | None:
        """As the core last published it: None for a box without a lock."""
        return self.core.state.connector_locked

    def request_phases(self, phases: int) -> None:
        """The planner's switch request, handed to the core (the switch is its own); what
        came of it shows in `state.phases` after its next step."""
        self.core.call(lambda: self.core.phases.request(phases))
