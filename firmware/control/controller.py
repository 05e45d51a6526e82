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
import math
from collections import deque
from collections.abc import Callable

from pievse.firmware.clock import Clock, elapsed
from pievse.firmware.config import Config
from pievse.firmware.control.connector_lock import LockDriver
from pievse.firmware.control.connector_status import (
    ConnectorStatus,
    StatusInputs,
    box_status,
    connector_status,
)
from pievse.firmware.control.derating import thermal_limit_a
from pievse.firmware.control.duty_cycle import current_for_duty, duty_percent
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.iec61851 import (
    CONNECTED,
    ContactorAction,
    EvseInputs,
    OfferInputs,
    Transition,
    contactor_step,
    pilot_offers,
)
from pievse.firmware.control.limits import Limit, LimitSources, arbitrate
from pievse.firmware.control.listeners import ListenerGuard
from pievse.firmware.control.metering import MeterWatch
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
from pievse.hal.interfaces import Board, CableFault, Measurements, PilotSample, PilotState

log = logging.getLogger(__name__)
DUTY_EPSILON = 0.05
LED_COLOURS = {"Available": "green", "Charging": "blue", "Faulted": "red"}


class ChargeController:
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
        self.limits = LimitSources()
        self.limits.register("site", lambda _now: config.limits.site_max_current_a)
        self.limits.register(
            "thermal", lambda _now: thermal_limit_a(self._temperature_c, board.derating)
        )
        self.pilot_sample: PilotSample = board.pilot.sample()
        self._temperature_c = board.thermometer.read_c()
        self._outlet_c = board.outlet_thermometer.read_c() if board.outlet_thermometer else None
        self.cable_rating_a: float | None = None
        self.offer = Limit("board", board.ratings.max_current_a)
        self.transition = Transition.IDLE
        self._reserved = False
        self._lock = LockDriver(board.lock, self.supervisor)
        self.duty: float | None = None
        """The duty the pilot runs, in percent; None for steady +12 V."""
        self._duty_changed_at = -math.inf
        self._duty_due: float | None = None
        self._previous_allowed_a = 0.0
        self._suspended_at: float | None = None
        self.meter = MeterWatch(
            board.meter, config.meter, self.supervisor, self.wake, self._on_reading
        )
        seams = SessionSeams(
            self.wake, self._guarded_step, self.supervisor, config.control.contactor_release_s
        )
        self.sessions = SessionKeeper(
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
        self._tag_reader = (
            None
            if board.tag_reader is None
            else TagReaderWatch(board.tag_reader, self.sessions.present_tag, self.wake)
        )
        self._rcd_test_running = False
        self._rcd_test_failed_at = -math.inf
        self.tick_lateness_s: deque[float] = deque(maxlen=100_000)

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
            if self._duty_due is not None:
                due_in = self._duty_due - self._clock.monotonic()
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
        self._check_pilot(sample)
        self._check_temperature()
        self._check_cable(sample)
        self.supervisor.check_weld_after_open()
        self.supervisor.check_close_confirmed()
        self._recover_faults(sample, now)
        self._reserved = self.reservations.current() is not None
        self.sessions.follow(sample.state, now)
        self.offer = self._arbitrate()
        self._drive(sample, now)
        self._board.contactor.keep_alive()
        self._show_led()

    def _check_pilot(self, sample: PilotSample) -> None:
        faults = self.supervisor.faults()
        holding_f = Fault.DIODE in faults or Fault.CONTACTOR_WELD in faults
        if sample.state in (PilotState.E, PilotState.F) and not holding_f:
            self.supervisor.trip(Fault.PILOT_ERROR, f"pilot reads state {sample.state}")
        elif Fault.PILOT_ERROR in faults and sample.state not in (PilotState.E, PilotState.F):
            self.supervisor.clear(Fault.PILOT_ERROR)
        if not sample.diode_ok:
            self.supervisor.trip(
                Fault.DIODE, f"pilot low level {sample.low_v:.1f} V, expected -12 V (EV diode)"
            )

    def _check_temperature(self) -> None:
        """Either sensor past its trip point trips; both must be below resume to clear."""
        enclosure = self._board.thermometer
        outlet = self._board.outlet_thermometer
        self._temperature_c = enclosure.read_c()
        readings = [("enclosure", enclosure, self._temperature_c)]
        if outlet is not None:
            self._outlet_c = outlet.read_c()
            readings.append(("outlet", outlet, self._outlet_c))
        hot = [(where, c) for where, sensor, c in readings if c >= sensor.trip_c]
        if hot:
            where, celsius = hot[0]
            self.supervisor.trip(Fault.OVERTEMPERATURE, f"{where} at {celsius:.1f} degC")
        elif Fault.OVERTEMPERATURE in self.supervisor.faults() and all(
            c < sensor.resume_c and not sensor.alert_active() for _, sensor, c in readings
        ):
            self.supervisor.clear(Fault.OVERTEMPERATURE)

    def _check_cable(self, sample: PilotSample) -> None:
        cable = self._board.cable
        if cable is None:
            return
        try:
            self.cable_rating_a = cable.rating_a()
        except CableFault as exc:
            self.cable_rating_a = None
            if sample.state in CONNECTED:
                self.supervisor.trip(Fault.CABLE, str(exc))
            return
        self.supervisor.clear(Fault.CABLE)

    def _recover_faults(self, sample: PilotSample, now: float) -> None:
        faults = self.supervisor.faults()
        unplugged = sample.state == PilotState.A
        if Fault.RCD in faults and unplugged and not self._board.rcd.tripped():
            self._start_rcd_self_test(now)
        if Fault.DIODE in faults and elapsed(faults[Fault.DIODE], now, self._control.fault_retry_s):
            self.supervisor.clear(Fault.DIODE)  # release state F and look again
        if Fault.CONTACTOR_WELD in faults and not self._board.contactor.is_closed():
            self.supervisor.clear(Fault.CONTACTOR_WELD)
        tamper = self._board.tamper
        if Fault.TAMPER in faults and tamper is not None and not tamper.opened():
            self.supervisor.clear(Fault.TAMPER)
        for fault in (Fault.OVERCURRENT, Fault.LOCK, Fault.CONTACTOR_FAILURE):
            if fault in faults and unplugged:
                self.supervisor.clear(fault)
        if Fault.INTERNAL in faults and elapsed(
            faults[Fault.INTERNAL], now, self._control.fault_retry_s
        ):
            self.supervisor.clear(Fault.INTERNAL)

    def _start_rcd_self_test(self, now: float) -> None:
        if self._rcd_test_running or not elapsed(
            self._rcd_test_failed_at, now, self._control.fault_retry_s
        ):
            return
        self._rcd_test_running = True

        async def run_test() -> None:
            try:
                passed = await self.supervisor.rcd_self_test()
            finally:
                self._rcd_test_running = False
            if passed:
                self.supervisor.clear(Fault.RCD)
            else:
                self._rcd_test_failed_at = self._clock.monotonic()
                log.warning("RCD self-test failed; the RCD fault stays latched")

        asyncio.get_running_loop().create_task(run_test())

    def _arbitrate(self) -> Limit:
        limits = [Limit("board", self._board.ratings.max_current_a)]
        if self._board.cable is not None:
            limits.append(Limit("cable", self.cable_rating_a or 0.0))
        limits.extend(self.limits.collect(self._clock.now()))
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
            )
        )
        self._apply_duty(target if offering else None, now)
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
                pwm_seen=self.duty is not None and sample.pwm_active,
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

    def _apply_duty(self, target: float | None, now: float) -> None:
        self._duty_due = None
        if target is None:
            if self.duty is not None:
                self._record_duty_change(None, now)
        elif self.duty is None:
            self._record_duty_change(target, now)
        elif abs(target - self.duty) > DUTY_EPSILON:
            if elapsed(self._duty_changed_at, now, self._control.duty_hold_s):
                self._record_duty_change(target, now)
            else:
                self._duty_due = self._duty_changed_at + self._control.duty_hold_s
        self.supervisor.command_pilot(self.duty)

    def _record_duty_change(self, duty: float | None, now: float) -> None:
        self._previous_allowed_a = self._allowed_now_a()
        self.duty = duty
        self._duty_changed_at = now

    def _allowed_now_a(self) -> float:
        return 0.0 if self.duty is None else current_for_duty(self.duty)

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
        allowed = self._allowed_now_a()
        if self._clock.monotonic() - self._duty_changed_at < self._meter_cfg.ev_response_s:
            allowed = max(allowed, self._previous_allowed_a)
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
            pwm_active=self.duty is not None,
            contactor_closed=self._board.contactor.is_closed(),
            faults=frozenset(self.supervisor.faults()),
            meter_flagged=self.meter.flagged,
            awaiting_ev=keeper.authorized_tag is not None,
            reserved=self._reserved,
            reader_failed=self._tag_reader is not None and self._tag_reader.failed,
            box_operative=keeper.operative[0],
            connector_operative=keeper.operative[1],
        )

    def connector_status(self) -> ConnectorStatus:
        return connector_status(self._status_inputs())

    def box_status(self) -> ConnectorStatus:
        return box_status(self._status_inputs())

    @property
    def session(self) -> Session | None:
        return self.sessions.session

    def unlock_connector(self) -> bool:
        """UnlockConnector: stops a running session first. False when there is no lock."""
        self.sessions.stop_session("UnlockCommand")
        return self._lock.unlock()

    def connector_locked(self) -> bool | None:
        return self._lock.locked()

    @property
    def measurements(self) -> Measurements | None:
        return self.meter.measurements

    @property
    def offered_a(self) -> float:
        """What the pilot offers now (0 while suspended)."""
        return self._allowed_now_a()

    @property
    def contactor_closed(self) -> bool:
        """As its mirror contact reports."""
        return self._board.contactor.is_closed()

    @property
    def temperatures_c(self) -> dict[str, float]:
        """By OCPP location: Body (the enclosure) and, where fitted, Outlet."""
        found = {"Body": self._temperature_c}
        if self._outlet_c is not None:
            found["Outlet"] = self._outlet_c
        return found

    @property
    def ev_soc_percent(self) -> float | None:
        source = self._board.ev_soc
        return None if source is None else source.soc_percent()
