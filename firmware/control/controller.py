"""The charge controller: wakes on every event and on a fixed tick, checks the inputs,
arbitrates the limits and applies the IEC 61851-1 table (`iec61851`) to pilot and contactor.

Safety reactions do not wait for a step: the supervisor opens the contactor inside the edge
callback. Duty changes are held to one per `duty_hold_s`; suspending is never held. Sessions
are the `SessionKeeper`'s, the meter the `MeterWatch`'s, the card reader the
`TagReaderWatch`'s; the controller asks them each step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from pievse.firmware.clock import Clock
from pievse.firmware.config import Config
from pievse.firmware.control.connector_lock import LockDriver
from pievse.firmware.control.connector_status import (
    ConnectorStatus,
    StatusInputs,
    box_status,
    connector_status,
)
from pievse.firmware.control.derating import thermal_limit_a
from pievse.firmware.control.duty_cycle import duty_percent
from pievse.firmware.control.energy_plausibility import EnergyRules, rated_power_w
from pievse.firmware.control.fault_recovery import FaultRecovery
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.iec61851 import (
    ContactorAction,
    EvseInputs,
    OfferInputs,
    Transition,
    contactor_step,
    pilot_offers,
)
from pievse.firmware.control.input_checks import InputChecks
from pievse.firmware.control.limits import Limit, LimitSources, arbitrate
from pievse.firmware.control.listeners import ListenerGuard
from pievse.firmware.control.metering import MeterWatch
from pievse.firmware.control.phase_switch import PhaseSwitch, PhaseSwitchSettings
from pievse.firmware.control.pilot_duty import PilotDuty
from pievse.firmware.control.safety import SafetySupervisor
from pievse.firmware.control.session_keeper import (
    Authorize,
    SessionKeeper,
    SessionPolicy,
    SessionSeams,
)
from pievse.firmware.control.tag_reading import TagReaderWatch
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.hal.interfaces import Board, Measurements, PilotSample, PilotState

log = logging.getLogger(__name__)
LED_COLOURS = {"Available": "green", "Charging": "blue", "Faulted": "red"}
UNLOCK_CONFIRM_S = 2.0


class ChargeController:
    """The one owner of pilot and contactor commands (through the safety supervisor);
    everything else asks it, or subscribes to it: `sessions.listeners`, `step_listeners`
    and named `limits` are where OCPP, energy management and the UI plug in."""

    def __init__(
        self,
        board: Board,
        config: Config,
        clock: Clock,
        sessions: SessionLog,
        authorize: Authorize,
        reservations: ReservationBook,
    ) -> None:
        self._board = board
        self._control = config.control
        self._meter_cfg = config.meter
        self._clock = clock
        self.reservations = reservations
        self.policy = SessionPolicy(
            config.control.connection_timeout_s,
            resume_after_power_loss=config.control.resume_after_power_loss,
        )
        self.step_listeners: list[Callable[[], None]] = []
        self.guard = ListenerGuard()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event = asyncio.Event()
        self.supervisor = SafetySupervisor(board, self.wake, clock.monotonic)
        self._inputs = InputChecks(board, self.supervisor)
        self.limits = LimitSources(clock.monotonic)
        self.limits.register("site", lambda _now: config.limits.site_max_current_a)
        self.limits.register(
            "thermal", lambda _now: thermal_limit_a(self._inputs.enclosure_c, board.derating)
        )
        self.pilot_sample: PilotSample = board.pilot.sample()
        self.offer = Limit("board", board.ratings.max_current_a)
        self.active_limits: tuple[Limit, ...] = (self.offer,)
        """Every source that imposed a limit at the last step, in precedence order."""
        self.transition = Transition.IDLE
        self._reserved = False
        self._lock = LockDriver(board.lock, self.supervisor)
        self._duty = PilotDuty(config.control.duty_hold_s)
        self._recovery = FaultRecovery(
            board, self.supervisor, clock.monotonic, config.control.fault_retry_s
        )
        self._suspended_at: float | None = None
        site = config.site
        self.phases = PhaseSwitch(
            board,
            self.supervisor,
            PhaseSwitchSettings(
                site.phase_switch_pause_s,
                site.phase_switch_pilot == "F",
                site.max_phase_switches,
                config.control.contactor_release_s,
            ),
        )
        self.meter = MeterWatch(
            board.meter,
            config.meter,
            self.supervisor,
            self.wake,
            self._on_reading,
            EnergyRules(rated_power_w(board.ratings)),
            clock.monotonic,
        )
        self.sessions = self._keeper(config, clock, sessions, authorize, reservations)
        self._tag_reader = (
            None
            if board.tag_reader is None
            else TagReaderWatch(board.tag_reader, self.sessions.present_tag, self.wake)
        )
        self.tick_lateness_s: deque[float] = deque(maxlen=100_000)
        self.held = False
        """Commissioning drives the outputs: each step checks the inputs and keeps the
        contactor alive, but follows no session and drives nothing."""

    def _keeper(
        self,
        config: Config,
        clock: Clock,
        sessions: SessionLog,
        authorize: Authorize,
        reservations: ReservationBook,
    ) -> SessionKeeper:
        seams = SessionSeams(
            self.wake, self._guarded_step, self.supervisor, config.control.contactor_release_s
        )
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

    # --- wiring --------------------------------------------------------------------------

    def wake(self) -> None:
        """Thread-safe: an edge callback on any thread may call it."""
        loop = self._loop
        if loop is None:
            self._wake_event.set()
        else:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                loop.call_soon_threadsafe(self._wake_event.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.supervisor.watch_inputs()
        if not await self.supervisor.rcd_self_test():
            self.supervisor.trip(Fault.RCD, "RCD self-test failed at start-up")
        await self.sessions.first_meter_reading()
        self.sessions.settle_left_open(self._board.pilot.sample().state)
        tasks = [asyncio.create_task(self.meter.run(), name="meter")]
        if self._tag_reader is not None:
            tasks.append(asyncio.create_task(self._tag_reader.run(), name="tags"))
        try:
            await self._tick_forever()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.shutdown()

    def shutdown(self) -> None:
        self.supervisor.open_contactor(self._control.contactor_release_s)
        self.supervisor.command_pilot(None)

    async def _tick_forever(self) -> None:
        assert self._loop is not None
        period = self._control.tick_ms / 1000.0
        next_tick = self._loop.time() + period
        while True:
            deadline = next_tick
            if self._duty.due is not None:
                due_in = self._duty.due - self._clock.monotonic()
                deadline = min(deadline, self._loop.time() + max(0.0, due_in))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await self._wake_event.wait()
            self._wake_event.clear()
            now = self._loop.time()
            if now >= next_tick:
                self.tick_lateness_s.append(now - next_tick)
                next_tick += period
                if now - next_tick > period:  # fell far behind (suspended host): re-phase
                    next_tick = now + period
            self._guarded_step()

    def _guarded_step(self) -> None:
        try:
            self.step()
        except Exception:
            log.exception("control step failed; contactor opened")
            self.supervisor.trip(Fault.INTERNAL, "control step failed")
        self.guard.tell(self.step_listeners, lambda listener: listener())

    # --- one step of the state machine ---------------------------------------------------

    def step(self) -> None:
        now = self._clock.monotonic()
        sample = self._board.pilot.sample()
        self.pilot_sample = sample
        self._inputs.pilot(sample)
        self._inputs.temperatures()
        self._inputs.cable(sample)
        self.supervisor.check_weld_after_open()
        self.supervisor.check_close_confirmed()
        self.supervisor.check_phases_confirmed()
        if self.held:
            self.supervisor.keep_contactor_alive()
            return
        self._recovery.recover(sample.state, now)
        self._reserved = self.reservations.current() is not None
        self.sessions.follow(sample.state, now)
        self.phases.step(sample.state, self.meter.measurements, now, self._duty.duty is not None)
        self.offer = self._arbitrate()
        self._drive(sample, now)
        self.supervisor.keep_contactor_alive()
        self._show_led()

    def _arbitrate(self) -> Limit:
        limits = [Limit("board", self._board.ratings.max_current_a)]
        if self._board.cable is not None:
            limits.append(Limit("cable", self._inputs.cable_rating_a or 0.0))
        limits.extend(self.limits.collect(self._clock.now()))
        self.active_limits = tuple(limits)
        return arbitrate(limits)

    def _drive(self, sample: PilotSample, now: float) -> None:
        faulted = bool(self.supervisor.faults())
        keeper = self.sessions
        target = duty_percent(self.offer.current_a)
        offering = pilot_offers(
            OfferInputs(
                sample.state,
                keeper.session is not None,
                keeper.finishing,
                keeper.blocked,
                faulted,
                target,
                self.phases.holding_offer,
            )
        )
        self.supervisor.command_pilot(
            self._duty.aim(target if offering else None, now), state_f=self.phases.pilot_f
        )
        unplugged = sample.state == PilotState.A
        want_lock = keeper.session is not None and not (
            unplugged and self.policy.unlock_on_ev_disconnect
        )
        locked = self._lock.drive(want_lock, unplugged, now)
        suspended_at = self._suspended_at
        step = contactor_step(
            EvseInputs(
                pilot=sample.state,
                offering=offering,
                pwm_seen=self._duty.duty is not None and sample.pwm_active,
                locked=locked,
                contactor_closed=self._board.contactor.commanded_closed,
                faulted=faulted,
                suspended_for_s=None if suspended_at is None else now - suspended_at,
                suspend_timeout_s=self._control.suspend_timeout_s,
            )
        )
        self._suspended_at = (
            (now if suspended_at is None else suspended_at) if step.suspending else None
        )
        if step.transition != self.transition:
            log.debug("pilot %s: %s -> %s", sample.state, self.transition, step.transition)
            self.transition = step.transition
        if step.transition == Transition.SUSPEND_TIMEOUT:
            log.warning(
                "EV kept state %s %.0f s after the pilot stopped offering; "
                "opening the contactor under load",
                sample.state,
                self._control.suspend_timeout_s,
            )
        if step.contactor == ContactorAction.CLOSE:
            self.supervisor.close_contactor(self._control.contactor_release_s)
        elif step.contactor == ContactorAction.OPEN:
            self.supervisor.open_contactor(self._control.contactor_release_s)

    def _show_led(self) -> None:
        led = self._board.led
        if led is None:
            return
        faulted = self.box_status().status == "Faulted"
        led.show("red" if faulted else LED_COLOURS.get(self.connector_status().status, "yellow"))

    # --- metering ------------------------------------------------------------------------

    def _on_reading(self, m: Measurements) -> None:
        self.sessions.note_reading(m)
        self._check_overcurrent(m)

    def _check_overcurrent(self, m: Measurements) -> None:
        drawn = max((c for c in m.current_a if c is not None), default=0.0)
        allowed = self._duty.allowed_a(self._clock.monotonic(), self._meter_cfg.ev_response_s)
        if (
            self._board.contactor.is_closed()
            and drawn > allowed + self._meter_cfg.overcurrent_tolerance_a
        ):
            self.supervisor.trip(
                Fault.OVERCURRENT, f"EV draws {drawn:.1f} A where {allowed:.1f} A is offered"
            )

    # --- what the outside sees -----------------------------------------------------------

    def _status_inputs(self) -> StatusInputs:
        keeper = self.sessions
        return StatusInputs(
            pilot_state=self.pilot_sample.state,
            in_session=keeper.session is not None,
            finishing=keeper.finishing,
            pwm_active=self._duty.duty is not None,
            contactor_closed=self._board.contactor.is_closed(),
            faults=frozenset(self.supervisor.faults()),
            meter_flagged=self.meter.flagged,
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
        self.sessions.stop_session("UnlockCommand")
        return self._lock.unlock()

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
        return self._lock.locked()

    @property
    def measurements(self) -> Measurements | None:
        return self.meter.measurements

    @property
    def offered_a(self) -> float:
        """What the pilot offers now (0 while suspended)."""
        return self._duty.offered_a

    @property
    def duty(self) -> float | None:
        """The duty the pilot runs, in percent; None for steady +12 V."""
        return self._duty.duty

    @property
    def contactor_closed(self) -> bool:
        """As its mirror contact reports."""
        return self._board.contactor.is_closed()

    @property
    def temperatures_c(self) -> dict[str, float]:
        return self._inputs.temperatures_c

    @property
    def cable_rating_a(self) -> float | None:
        return self._inputs.cable_rating_a

    @property
    def ev_soc_percent(self) -> float | None:
        source = self._board.ev_soc
        return None if source is None else source.soc_percent()
