"""The charge controller: the IEC 61851-1 state machine from the EVSE side, in one place.

One asyncio task ticks at a fixed period and also wakes at once on events (pilot change,
fault input edge, new limit, tag). Each step reads like the standard's state table:

| pilot | session                 | pilot output             | contactor                      |
|-------|-------------------------|--------------------------|--------------------------------|
| A     | ends (EVDisconnected)   | steady +12 V             | open at once                   |
| B     | authorized              | PWM at offered current   | open at once (C->B)            |
| C/D   | authorized, offer >= 6 A| PWM at offered current   | closed                         |
| C/D   | offer < 6 A or stopping | steady +12 V (suspend)   | open on C->B or after 6 s      |
| E/F   | fault                   | steady +12 V / F         | open at once                   |

Safety reactions do not wait for a step: the supervisor opens the contactor inside the edge
callback. Duty changes are held to one per `duty_hold_s`; suspending is never held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pievse.firmware.clock import Clock
from pievse.firmware.config import Config
from pievse.firmware.control.connector_status import (
    ConnectorStatus,
    StatusInputs,
    box_status,
    connector_status,
)
from pievse.firmware.control.derating import thermal_limit_a
from pievse.firmware.control.duty_cycle import current_for_duty, duty_percent
from pievse.firmware.control.faults import REPORTS, Fault
from pievse.firmware.control.limits import Limit, LimitSources, arbitrate
from pievse.firmware.control.metering import MeterWatch
from pievse.firmware.control.safety import SafetySupervisor
from pievse.firmware.control.tag_reading import TagReaderWatch
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.reservations import Reservation, ReservationBook
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.hal.interfaces import (
    Board,
    CableFault,
    Measurements,
    PilotSample,
    PilotState,
)

log = logging.getLogger(__name__)

Authorize = Callable[[str], Awaitable[IdTagInfo]]
CONNECTOR_ID = 1
CONNECTED = (PilotState.B, PilotState.C, PilotState.D)
DRAWING = (PilotState.C, PilotState.D)
DUTY_EPSILON = 0.05
CLOCK_TOLERANCE_S = 1e-6
LOCK_CONFIRM_S = 1.0
SESSION_READING_EVERY_S = 10.0
"""How often a running session's meter reading is persisted for a power loss to end it on."""


@dataclass
class SessionPolicy:
    """Session rules the CSMS may change at run time (OCPP configuration keys)."""

    connection_timeout_s: float
    stop_on_ev_disconnect: bool = True
    unlock_on_ev_disconnect: bool = True
    stop_on_invalid_id: bool = True
    resume_after_power_loss: bool = False


class SessionListener(Protocol):
    """Told of every session start and stop, in order, from the control loop."""

    def session_started(self, session: Session) -> None: ...

    def session_stopped(self, session: Session, reason: str) -> None: ...

    def session_resumed(self, session: Session) -> None:
        """A session open at a power loss goes on (resume_after_power_loss): it was started
        and reported before, so nothing is started again."""
        ...


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
        self._free_vend_tag = config.standalone.free_vend_id_tag
        self._clock = clock
        self._sessions = sessions
        self._authorize = authorize
        self.reservations = reservations
        self.policy = SessionPolicy(
            config.control.connection_timeout_s,
            resume_after_power_loss=config.control.resume_after_power_loss,
        )
        self.session_listeners: list[SessionListener] = []
        self.step_listeners: list[Callable[[], None]] = []
        self.listener_errors = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event = asyncio.Event()
        self.supervisor = SafetySupervisor(board, self.wake, clock.monotonic)
        self.limits = LimitSources()
        self.limits.register("site", lambda _now: config.limits.site_max_current_a)
        self.limits.register(
            "thermal", lambda _now: thermal_limit_a(self._temperature_c, board.derating)
        )

        self._sample: PilotSample = board.pilot.sample()
        self._temperature_c = board.thermometer.read_c()
        self._outlet_c = board.outlet_thermometer.read_c() if board.outlet_thermometer else None
        self._cable_rating_a: float | None = None
        self._offer = Limit("board", board.ratings.max_current_a)
        self._authorized_tag: str | None = None
        self._authorized_info: IdTagInfo | None = None
        self._authorized_at = 0.0
        self._reservation: Reservation | None = None
        self._session: Session | None = None
        self._finishing = False
        self._session_blocked = False
        self._operative = {0: True, 1: True}
        self._operative_pending: dict[int, bool] = {}
        self._lock_commanded_at: float | None = None
        self._duty: float | None = None
        self._duty_changed_at = -math.inf
        self._duty_due: float | None = None
        self._previous_allowed_a = 0.0
        self._stop_requested_at: float | None = None
        self._reading_saved_at = -math.inf
        self._tag_reader = (
            None
            if board.tag_reader is None
            else TagReaderWatch(board.tag_reader, self.present_tag, self.wake)
        )
        self.meter = MeterWatch(
            board.meter, config.meter, self.supervisor, self.wake, self._on_reading
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
        await self._first_meter_reading()
        self._settle_sessions_left_open()
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
        self._tell(self.step_listeners, lambda listener: listener())

    def _tell(self, listeners: list[Any], call: Callable[[Any], None]) -> None:
        """Listeners observe; none of them may end the control task, stop the box or touch
        the contactor: a failure is logged with its traceback and counted
        (`listener_errors` in the status), and the next listener is told all the same."""
        for listener in listeners:
            try:
                call(listener)
            except Exception:
                self.listener_errors += 1
                log.exception("listener %r failed; the control loop goes on", listener)

    # --- one step of the state machine ---------------------------------------------------

    def step(self) -> None:
        now = self._clock.monotonic()
        sample = self._board.pilot.sample()
        self._sample = sample
        self._check_pilot(sample)
        self._check_temperature()
        self._check_cable(sample)
        self.supervisor.check_weld_after_open()
        self.supervisor.check_close_confirmed()
        self._recover_faults(sample, now)
        self._reservation = self.reservations.current()
        self._follow_session(sample, now)
        self._offer = self._arbitrate()
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
            self._cable_rating_a = cable.rating_a()
        except CableFault as exc:
            self._cable_rating_a = None
            if sample.state in CONNECTED:
                self.supervisor.trip(Fault.CABLE, str(exc))
            return
        self.supervisor.clear(Fault.CABLE)

    def _recover_faults(self, sample: PilotSample, now: float) -> None:
        faults = self.supervisor.faults()
        unplugged = sample.state == PilotState.A
        if Fault.RCD in faults and unplugged and not self._board.rcd.tripped():
            self._start_rcd_self_test(now)
        if Fault.DIODE in faults and _elapsed(
            faults[Fault.DIODE], now, self._control.fault_retry_s
        ):
            self.supervisor.clear(Fault.DIODE)  # release state F and look again
        if Fault.CONTACTOR_WELD in faults and not self._board.contactor.is_closed():
            self.supervisor.clear(Fault.CONTACTOR_WELD)
        tamper = self._board.tamper
        if Fault.TAMPER in faults and tamper is not None and not tamper.opened():
            self.supervisor.clear(Fault.TAMPER)
        for fault in (Fault.OVERCURRENT, Fault.LOCK, Fault.CONTACTOR_FAILURE):
            if fault in faults and unplugged:
                self.supervisor.clear(fault)
        if Fault.INTERNAL in faults and _elapsed(
            faults[Fault.INTERNAL], now, self._control.fault_retry_s
        ):
            self.supervisor.clear(Fault.INTERNAL)

    def _start_rcd_self_test(self, now: float) -> None:
        if self._rcd_test_running or not _elapsed(
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

    def _follow_session(self, sample: PilotSample, now: float) -> None:
        if self._session is not None and any(
            REPORTS[fault].ends_session for fault in self.supervisor.faults()
        ):
            self.end_session("Other")
            self._finishing = True
        if sample.state == PilotState.A:
            if self._session is not None and self.policy.stop_on_ev_disconnect:
                self.end_session("EVDisconnected")
            self._finishing = False
            if self._authorized_tag is not None and _elapsed(
                self._authorized_at, now, self.policy.connection_timeout_s
            ):
                log.info(
                    "tag %s: no EV plugged in within the connection timeout", self._authorized_tag
                )
                self._authorized_tag = None
            return
        if sample.state not in CONNECTED or self._session is not None or self._finishing:
            return
        if not self.operative:
            self._authorized_tag = None
            return
        if (
            self._authorized_tag is None
            and self._free_vend_tag
            and not self.reserved_for_another(self._free_vend_tag, None)
        ):
            self._authorize_tag(self._free_vend_tag, None, now)
        if self._authorized_tag is not None and not self.supervisor.faults():
            self._start_session(self._authorized_tag)

    def _arbitrate(self) -> Limit:
        limits = [Limit("board", self._board.ratings.max_current_a)]
        if self._board.cable is not None:
            limits.append(Limit("cable", self._cable_rating_a or 0.0))
        limits.extend(self.limits.collect(self._clock.now()))
        return arbitrate(limits)

    def _drive(self, sample: PilotSample, now: float) -> None:
        faults = self.supervisor.faults()
        offering = (
            self._session is not None
            and not self._finishing
            and not self._session_blocked
            and sample.state in CONNECTED
            and not faults
        )
        self._apply_duty(duty_percent(self._offer.current_a) if offering else None, now)
        locked = self._drive_lock(sample, now)
        contactor = self._board.contactor
        # Offer still on after this step's decision, and the sample was taken with the PWM
        # running, so its diode check has passed.
        pwm_on = self._duty is not None and sample.pwm_active
        if offering and sample.state in DRAWING and pwm_on and locked:
            self._stop_requested_at = None
            if not contactor.commanded_closed:
                self.supervisor.close_contactor(self._control.contactor_release_s)
            return
        if not contactor.commanded_closed:
            self._stop_requested_at = None
            return
        # The EV is still in C/D while we stopped offering: wait for C->B, then force.
        if sample.state in DRAWING and not faults:
            if self._stop_requested_at is None:
                self._stop_requested_at = now
            if not _elapsed(self._stop_requested_at, now, self._control.suspend_timeout_s):
                return
            log.warning(
                "EV kept state %s %.0f s after the pilot stopped offering; "
                "opening the contactor under load",
                sample.state,
                self._control.suspend_timeout_s,
            )
        self._stop_requested_at = None
        self.supervisor.open_contactor(self._control.contactor_release_s)

    def _drive_lock(self, sample: PilotSample, now: float) -> bool:
        """Locked for the whole session; released when it ends or, if so configured, when the
        EV end of the cable is unplugged. Returns whether the connector is locked."""
        lock = self._board.lock
        if lock is None:
            return True
        unplugged = sample.state == PilotState.A
        want = self._session is not None and not (unplugged and self.policy.unlock_on_ev_disconnect)
        if not want or Fault.LOCK in self.supervisor.faults():
            lock.unlock()
            self._lock_commanded_at = None
            return False
        lock.lock()
        if lock.is_locked():
            self._lock_commanded_at = None
            return True
        if self._lock_commanded_at is None:
            self._lock_commanded_at = now
        elif not unplugged and _elapsed(self._lock_commanded_at, now, LOCK_CONFIRM_S):
            self.supervisor.trip(
                Fault.LOCK, f"connector lock not confirmed {LOCK_CONFIRM_S:.0f} s after locking"
            )
        return False

    def _apply_duty(self, target: float | None, now: float) -> None:
        self._duty_due = None
        if target is None:
            if self._duty is not None:
                self._record_duty_change(None, now)
        elif self._duty is None:
            self._record_duty_change(target, now)
        elif abs(target - self._duty) > DUTY_EPSILON:
            if _elapsed(self._duty_changed_at, now, self._control.duty_hold_s):
                self._record_duty_change(target, now)
            else:
                self._duty_due = self._duty_changed_at + self._control.duty_hold_s
        self.supervisor.command_pilot(self._duty)

    def _record_duty_change(self, duty: float | None, now: float) -> None:
        self._previous_allowed_a = self._allowed_now_a()
        self._duty = duty
        self._duty_changed_at = now

    def _allowed_now_a(self) -> float:
        return 0.0 if self._duty is None else current_for_duty(self._duty)

    def _show_led(self) -> None:
        led = self._board.led
        if led is None:
            return
        status = self.connector_status().status
        colour = {
            "Available": "green",
            "Charging": "blue",
            "Faulted": "red",
        }.get(status, "yellow")
        if self.box_status().status == "Faulted":
            colour = "red"
        led.show(colour)

    # --- sessions and authorization ------------------------------------------------------

    async def present_tag(self, id_tag: str) -> None:
        session = self._session
        if session is not None:
            await self._tag_during_session(session, id_tag)
            return
        if not self.operative:
            log.info("tag %s presented while the connector is unavailable; ignored", id_tag)
            return
        info = await self._authorize(id_tag)
        if not info.accepted:
            log.info("tag %s not authorized (%s)", id_tag, info.status)
            return
        if self.reserved_for_another(id_tag, info):
            log.info("tag %s refused: the connector is reserved for another driver", id_tag)
            return
        self._authorize_tag(id_tag, info, self._clock.monotonic())
        self._finishing = False
        self.wake()

    async def _tag_during_session(self, session: Session, id_tag: str) -> None:
        """The session's own tag stops it; so does another card of the same group (same
        parentIdTag, OCPP 1.6 3.5), whose group the box may have to ask the CSMS for."""
        if id_tag == session.id_tag:
            self.stop_session("Local")
            return
        parent = self._sessions.parent_id_tag(session.id)
        info = await self._authorize(id_tag) if parent is not None else None
        if info is None or not info.shares_parent_with(parent) or self._session is not session:
            log.info("tag %s presented during the session of %s; ignored", id_tag, session.id_tag)
            return
        log.info("tag %s of group %s stops the session of %s", id_tag, parent, session.id_tag)
        self.stop_session("Local", stop_id_tag=id_tag)

    def can_start(self) -> bool:
        return self.operative and self._session is None and not self.supervisor.faults()

    def reserved_for_another(self, id_tag: str, info: IdTagInfo | None) -> bool:
        reservation = self.reservations.current()
        return reservation is not None and not reservation.admits(id_tag, info)

    def remote_start(self, id_tag: str, info: IdTagInfo | None) -> bool:
        """An already authorized start (RemoteStartTransaction); False if one cannot start."""
        if not self.can_start() or self.reserved_for_another(id_tag, info):
            return False
        self._authorize_tag(id_tag, info, self._clock.monotonic())
        self._finishing = False
        self.wake()
        return True

    def stop_session(self, reason: str, stop_id_tag: str | None = None) -> Session | None:
        """Ends the running session (remote stop, reset, unlock); the EV stays plugged."""
        session = self._session
        if session is not None:
            self.end_session(reason, stop_id_tag)
            self._finishing = True
            self._guarded_step()  # the pilot stops offering now, not at the next tick
        return session

    def deauthorize(self, session_id: int) -> None:
        """The CSMS refused the tag of a running session (StartTransaction idTagInfo)."""
        session = self._session
        if session is None or session.id != session_id:
            return
        if self.policy.stop_on_invalid_id:
            self.stop_session("DeAuthorized")
        else:
            log.info("session %d: tag %s refused; energy stays off", session.id, session.id_tag)
            self._session_blocked = True
            self.wake()

    def unlock_connector(self) -> bool:
        """UnlockConnector: stops a running session first. False when there is no lock."""
        self.stop_session("UnlockCommand")
        lock = self._board.lock
        if lock is None:
            return False
        lock.unlock()
        return True

    def connector_locked(self) -> bool | None:
        lock = self._board.lock
        return None if lock is None else lock.is_locked()

    @property
    def operative(self) -> bool:
        return self._operative[0] and self._operative[1]

    def set_operative(self, connector_id: int, operative: bool) -> bool:
        """ChangeAvailability: applies now (True) or when the running session ends (False)."""
        if self._session is not None and not operative:
            self._operative_pending[connector_id] = operative
            return False
        self._operative_pending.pop(connector_id, None)
        self._operative[connector_id] = operative
        self.wake()
        return True

    def _authorize_tag(self, id_tag: str, info: IdTagInfo | None, now: float) -> None:
        self._authorized_tag = id_tag
        self._authorized_info = info
        self._authorized_at = now

    def _start_session(self, id_tag: str) -> None:
        """The session, the reservation it uses up and the messages that report it (the
        listeners' StartTransaction) commit as one: a power loss keeps all or none."""
        meter_wh = self.meter.energy_wh
        info = self._authorized_info
        parent = None if info is None else info.parent_id_tag
        with self._sessions.atomic():
            reservation_id = self.reservations.use(id_tag, info)
            session = self._sessions.start(
                CONNECTOR_ID, id_tag, self._clock.now(), meter_wh, parent, reservation_id
            )
            self._tell(self.session_listeners, lambda listener: listener.session_started(session))
        self._session = session
        self._reading_saved_at = self._clock.monotonic()
        self._authorized_tag = None
        self._authorized_info = None
        self._session_blocked = False
        log.info("session %d started for %s at %.1f Wh", session.id, id_tag, meter_wh)

    def end_session(self, reason: str, stop_id_tag: str | None = None) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        self._session_blocked = False
        self.supervisor.open_contactor(self._control.contactor_release_s)
        self._record_stop(session, self._clock.now(), self.meter.energy_wh, reason, stop_id_tag)
        for connector_id, operative in list(self._operative_pending.items()):
            self.set_operative(connector_id, operative)

    def _record_stop(
        self,
        session: Session,
        at: datetime,
        meter_wh: float,
        reason: str,
        stop_id_tag: str | None = None,
    ) -> None:
        """The stop and the messages that report it (StopTransaction) commit as one."""
        with self._sessions.atomic():
            stopped = self._sessions.stop(session, at, meter_wh, reason, stop_id_tag)
            self._tell(
                self.session_listeners, lambda listener: listener.session_stopped(stopped, reason)
            )
        log.info(
            "session %d stopped (%s): %.1f Wh",
            session.id,
            reason,
            meter_wh - session.meter_start_wh,
        )

    async def _first_meter_reading(self) -> None:
        """A session left open needs the meter's count: a meter powering up with the box
        gets a few polls to answer before the last persisted reading is used instead."""
        await self.meter.poll_once()
        attempts = self._meter_cfg.offline_after_failures
        while self.meter.measurements is None and attempts > 1 and self._sessions.open_sessions():
            attempts -= 1
            await asyncio.sleep(self._meter_cfg.poll_interval_s)
            await self.meter.poll_once()

    def _settle_sessions_left_open(self) -> None:
        """Sessions open at start-up were cut by a power loss (or a crash). One goes on if
        so configured and its EV is still plugged in; the others end as PowerLoss."""
        sample = self._board.pilot.sample()
        for session in self._sessions.open_sessions():
            if (
                self.policy.resume_after_power_loss
                and self._session is None
                and sample.state in CONNECTED
                and self.operative
                and not self.supervisor.faults()
            ):
                self._resume(session)
                continue
            self._end_after_power_loss(session)

    def _resume(self, session: Session) -> None:
        self._session = session
        self._reading_saved_at = self._clock.monotonic()
        log.warning("session %d was open at start-up and its EV is plugged in: resumed", session.id)
        self._tell(self.session_listeners, lambda listener: listener.session_resumed(session))

    def _end_after_power_loss(self, session: Session) -> None:
        """Ends it on the meter's count: the meter's own if it answers (nothing flowed while
        the box was off, and what flowed before the cut was delivered), else the last reading
        persisted; never below either, nor below the start (a replaced meter). The stop time
        is the last moment the box knew the session running, not the restart time."""
        last = self._sessions.last_reading(session.id)
        persisted_wh = session.meter_start_wh if last is None else last.energy_wh
        meter_wh = max(persisted_wh, session.meter_start_wh)
        if self.meter.measurements is not None:
            meter_wh = max(meter_wh, self.meter.energy_wh)
        stopped_at = session.started_at if last is None else last.at
        log.warning(
            "session %d was open at start-up; closed as PowerLoss at %.1f Wh", session.id, meter_wh
        )
        self._record_stop(session, stopped_at, meter_wh, "PowerLoss")

    # --- metering ------------------------------------------------------------------------

    def _on_reading(self, m: Measurements) -> None:
        self._save_session_reading(m)
        self._check_overcurrent(m)

    def _save_session_reading(self, m: Measurements) -> None:
        session = self._session
        now = self._clock.monotonic()
        if (
            session is None
            or m.energy_import_wh is None
            or not _elapsed(self._reading_saved_at, now, SESSION_READING_EVERY_S)
        ):
            return
        self._reading_saved_at = now
        self._sessions.note_reading(session.id, m.energy_import_wh, self._clock.now())

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
        return StatusInputs(
            pilot_state=self._sample.state,
            in_session=self._session is not None,
            finishing=self._finishing,
            pwm_active=self._duty is not None,
            contactor_closed=self._board.contactor.is_closed(),
            faults=frozenset(self.supervisor.faults()),
            meter_flagged=self.meter.flagged,
            awaiting_ev=self._authorized_tag is not None,
            reserved=self._reservation is not None,
            reader_failed=self._tag_reader is not None and self._tag_reader.failed,
            box_operative=self._operative[0],
            connector_operative=self._operative[1],
        )

    def connector_status(self) -> ConnectorStatus:
        return connector_status(self._status_inputs())

    def box_status(self) -> ConnectorStatus:
        return box_status(self._status_inputs())

    @property
    def session(self) -> Session | None:
        return self._session

    @property
    def measurements(self) -> Measurements | None:
        return self.meter.measurements

    @property
    def offered_a(self) -> float:
        """What the pilot offers now (0 while suspended)."""
        return self._allowed_now_a()

    @property
    def temperature_c(self) -> float:
        return self._temperature_c

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

    def snapshot(self) -> dict[str, Any]:
        def connector(status: ConnectorStatus, transaction_id: int | None) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "status": status.status,
                "error_code": status.error_code,
                "transaction_id": transaction_id,
            }
            if status.vendor_error_code:
                entry["vendor_error_code"] = status.vendor_error_code
            return entry

        session = self._session
        sample = self._sample
        return {
            "connectors": {
                "0": connector(self.box_status(), None),
                "1": connector(self.connector_status(), session.id if session else None),
            },
            "pilot": {
                "state": sample.state.value,
                "duty_percent": None if self._duty is None else round(self._duty, 2),
                "offered_a": round(self._offer.current_a, 2) if self._duty is not None else 0.0,
                "high_v": sample.high_v,
                "low_v": sample.low_v,
            },
            "contactor": "closed" if self._board.contactor.is_closed() else "open",
            "limit": {"current_a": round(self._offer.current_a, 2), "source": self._offer.source},
            "cable_rating_a": self._cable_rating_a,
            "temperature_c": round(self._temperature_c, 2),
            "outlet_temperature_c": None if self._outlet_c is None else round(self._outlet_c, 2),
            "ev_soc_percent": self.ev_soc_percent,
            "faults": sorted(f.value for f in self.supervisor.faults()),
            "listener_errors": self.listener_errors,
            "meter": self.meter.describe(),
            "session": None
            if session is None
            else {
                "id": session.id,
                "id_tag": session.id_tag,
                "started_at": session.started_at.isoformat(),
                "energy_wh": round(self.meter.energy_wh - session.meter_start_wh, 3),
            },
        }


def _elapsed(since: float, now: float, duration_s: float) -> bool:
    """Whether `duration_s` has passed; tolerant of float rounding in accumulated clocks."""
    return now - since >= duration_s - CLOCK_TOLERANCE_S
