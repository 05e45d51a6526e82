"""The connector's session from authorization to stop: tags, remote starts, availability, the
sessions a power loss left open, and the listeners that report each start and stop.

The outside turn asks `follow` after every core step and tells the core `session`,
`finishing` and `blocked`, which decide the pilot; everything here runs on the outside loop's
thread (it writes SQLite), never on the safety core's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pievse.firmware.clock import Clock, elapsed
from pievse.firmware.config import Config
from pievse.firmware.control.faults import REPORTS
from pievse.firmware.control.iec61851 import CONNECTED
from pievse.firmware.control.listeners import ListenerGuard
from pievse.firmware.control.metering import MeterWatch
from pievse.firmware.control.safety import SafetySupervisor
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.firmware.session.stop_reasons import StopReason
from pievse.hal.interfaces import Measurements, PilotState

log = logging.getLogger(__name__)

Authorize = Callable[[str], Awaitable[IdTagInfo]]
CONNECTOR_ID = 1
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

    def session_stopped(self, session: Session, reason: StopReason) -> None: ...

    def session_resumed(self, session: Session) -> None:
        """A session open at a power loss goes on (resume_after_power_loss): it was started
        and reported before, so nothing is started again."""
        ...


@dataclass(frozen=True)
class SessionSeams:
    """What the keeper acts through: the loop's wake-up, an immediate step (a stop must
    withdraw the offer and open the contactor now, not at the next tick) and the safety
    supervisor's faults."""

    wake: Callable[[], None]
    step_now: Callable[[], None]
    supervisor: SafetySupervisor


class SessionKeeper:
    def __init__(
        self,
        config: Config,
        policy: SessionPolicy,
        clock: Clock,
        log_: SessionLog,
        authorize: Authorize,
        reservations: ReservationBook,
        meter: MeterWatch,
        seams: SessionSeams,
        guard: ListenerGuard,
    ) -> None:
        self._meter_cfg = config.meter
        self._free_vend_tag = config.standalone.free_vend_id_tag
        self.policy = policy
        self._clock = clock
        self._log = log_
        self._authorize = authorize
        self._reservations = reservations
        self._meter = meter
        self._seams = seams
        self._guard = guard
        self.listeners: list[SessionListener] = []
        self.session: Session | None = None
        self.finishing = False
        """The session ended and the EV has not been unplugged yet: no new one starts."""
        self.blocked = False
        """The CSMS refused the running session's tag and it goes on without energy."""
        self.authorized_tag: str | None = None
        self._authorized_info: IdTagInfo | None = None
        self._authorized_at = 0.0
        self.operative = {0: True, 1: True}
        self._operative_pending: dict[int, bool] = {}
        self._reading_saved_at = 0.0
        self.ended = 0
        """Sessions ended so far: the core opens the contactor for each new one at once."""

    # --- each control step ---------------------------------------------------------------

    def follow(self, pilot: PilotState, now: float) -> None:
        faults = self._seams.supervisor.faults()
        if self.session is not None and any(REPORTS[f].ends_session for f in faults):
            self.end_session(StopReason.OTHER)
            self.finishing = True
        if pilot == PilotState.A:
            self._unplugged(now)
            return
        if pilot not in CONNECTED or self.session is not None or self.finishing:
            return
        if not self.all_operative:
            self.authorized_tag = None
            return
        free = self._free_vend_tag
        if self.authorized_tag is None and free and not self.reserved_for_another(free, None):
            self._authorize_tag(free, None, now)
        if self.authorized_tag is not None and not faults:
            self._start(self.authorized_tag)

    def _unplugged(self, now: float) -> None:
        if self.session is not None and self.policy.stop_on_ev_disconnect:
            self.end_session(StopReason.EV_DISCONNECTED)
        self.finishing = False
        if self.authorized_tag is not None and elapsed(
            self._authorized_at, now, self.policy.connection_timeout_s
        ):
            log.info("tag %s: no EV plugged in within the connection timeout", self.authorized_tag)
            self.authorized_tag = None

    # --- tags and remote commands --------------------------------------------------------

    async def present_tag(self, id_tag: str) -> None:
        session = self.session
        if session is not None:
            await self._tag_during_session(session, id_tag)
            return
        if not self.all_operative:
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
        self.finishing = False
        self._seams.wake()

    async def _tag_during_session(self, session: Session, id_tag: str) -> None:
        """The session's own tag stops it; so does another card of the same group (same
        parentIdTag, OCPP 1.6 3.5), whose group the box may have to ask the CSMS for."""
        if id_tag == session.id_tag:
            self.stop_session(StopReason.LOCAL)
            return
        parent = self._log.parent_id_tag(session.id)
        info = await self._authorize(id_tag) if parent is not None else None
        if info is None or not info.shares_parent_with(parent) or self.session is not session:
            log.info("tag %s presented during the session of %s; ignored", id_tag, session.id_tag)
            return
        log.info("tag %s of group %s stops the session of %s", id_tag, parent, session.id_tag)
        self.stop_session(StopReason.LOCAL, stop_id_tag=id_tag)

    def can_start(self) -> bool:
        return self.all_operative and self.session is None and not self._seams.supervisor.faults()

    def reserved_for_another(self, id_tag: str, info: IdTagInfo | None) -> bool:
        reservation = self._reservations.current()
        return reservation is not None and not reservation.admits(id_tag, info)

    def remote_start(self, id_tag: str, info: IdTagInfo | None) -> bool:
        """An already authorized start (RemoteStartTransaction); False if one cannot start."""
        if not self.can_start() or self.reserved_for_another(id_tag, info):
            return False
        self._authorize_tag(id_tag, info, self._clock.monotonic())
        self.finishing = False
        self._seams.wake()
        return True

    def stop_session(self, reason: StopReason, stop_id_tag: str | None = None) -> Session | None:
        """Ends the running session (remote stop, reset, unlock); the EV stays plugged."""
        session = self.session
        if session is not None:
            self.end_session(reason, stop_id_tag)
            self.finishing = True
            self._seams.step_now()
        return session

    def shut_down(self, reason: StopReason) -> None:
        """A clean stop of the box: the session ends and both connectors are unavailable
        from now on (in memory only: after the restart, availability is what was set)."""
        self.end_session(reason)
        self._operative_pending.clear()
        self.operative = {0: False, 1: False}
        self.authorized_tag = None

    def deauthorize(self, session_id: int) -> None:
        """The CSMS refused the tag of a running session (StartTransaction idTagInfo)."""
        session = self.session
        if session is None or session.id != session_id:
            return
        if self.policy.stop_on_invalid_id:
            self.stop_session(StopReason.DE_AUTHORIZED)
        else:
            log.info("session %d: tag %s refused; energy stays off", session.id, session.id_tag)
            self.blocked = True
            self._seams.wake()

    @property
    def all_operative(self) -> bool:
        return self.operative[0] and self.operative[1]

    def set_operative(self, connector_id: int, operative: bool) -> bool:
        """ChangeAvailability: applies now (True) or when the running session ends (False)."""
        if self.session is not None and not operative:
            self._operative_pending[connector_id] = operative
            return False
        self._operative_pending.pop(connector_id, None)
        self.operative[connector_id] = operative
        self._seams.wake()
        return True

    def _authorize_tag(self, id_tag: str, info: IdTagInfo | None, now: float) -> None:
        self.authorized_tag = id_tag
        self._authorized_info = info
        self._authorized_at = now

    # --- start and stop ------------------------------------------------------------------

    def _start(self, id_tag: str) -> None:
        """The session, the reservation it uses up and the messages that report it (the
        listeners' StartTransaction) commit as one: a power loss keeps all or none."""
        meter_wh = self._meter.energy_wh
        info = self._authorized_info
        parent = None if info is None else info.parent_id_tag
        with self._log.atomic():
            reservation_id = self._reservations.use(id_tag, info)
            session = self._log.start(
                CONNECTOR_ID, id_tag, self._clock.now(), meter_wh, parent, reservation_id
            )
            self._guard.tell(self.listeners, lambda listener: listener.session_started(session))
        self.session = session
        self._reading_saved_at = self._clock.monotonic()
        self.authorized_tag = None
        self._authorized_info = None
        self.blocked = False
        log.info("session %d started for %s at %.1f Wh", session.id, id_tag, meter_wh)

    def end_session(self, reason: StopReason, stop_id_tag: str | None = None) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        self.blocked = False
        self.ended += 1
        self._record_stop(session, self._clock.now(), self._meter.energy_wh, reason, stop_id_tag)
        for connector_id, operative in list(self._operative_pending.items()):
            self.set_operative(connector_id, operative)

    def _record_stop(
        self,
        session: Session,
        at: datetime,
        meter_wh: float,
        reason: StopReason,
        stop_id_tag: str | None = None,
    ) -> None:
        """The stop and the messages that report it (StopTransaction) commit as one."""
        with self._log.atomic():
            stopped = self._log.stop(session, at, meter_wh, reason, stop_id_tag)
            self._guard.tell(
                self.listeners, lambda listener: listener.session_stopped(stopped, reason)
            )
        log.info(
            "session %d stopped (%s): %.1f Wh",
            session.id,
            reason,
            meter_wh - session.meter_start_wh,
        )

    def note_reading(self, m: Measurements) -> None:
        session = self.session
        now = self._clock.monotonic()
        if (
            session is None
            or m.energy_import_wh is None
            or not elapsed(self._reading_saved_at, now, SESSION_READING_EVERY_S)
        ):
            return
        self._reading_saved_at = now
        self._log.note_reading(session.id, m.energy_import_wh, self._clock.now())

    # --- after a power loss --------------------------------------------------------------

    def prepare_first_reading(self) -> list[Session]:
        """On the outside, before the core starts (it reads SQLite): each session left open
        tells the meter watch what its first poll is judged against (the last persisted
        reading, or the start's). Returns them: only these are settled once the core runs,
        never one a tag started meanwhile."""
        sessions = self._log.open_sessions()
        for session in sessions:
            last = self._log.last_reading(session.id)
            if last is None:
                wh, at = session.meter_start_wh, session.started_at
            else:
                wh, at = last.energy_wh, last.at
            self._meter.expect(wh, (self._clock.now() - at).total_seconds())
        return sessions

    async def first_meter_reading(self, sessions_open: bool) -> None:
        """A session left open (`sessions_open`, from `prepare_first_reading`) needs the
        meter's count: a meter powering up with the box gets a few polls to answer before
        the last persisted reading is used instead. Runs on the core's loop, which polls."""
        await self._meter.poll_once()
        attempts = self._meter_cfg.offline_after_failures
        while self._meter.measurements is None and attempts > 1 and sessions_open:
            attempts -= 1
            await asyncio.sleep(self._meter_cfg.poll_interval_s)
            await self._meter.poll_once()

    def settle_left_open(self, pilot: PilotState, left_open: list[Session]) -> None:
        """Sessions open at start-up (`left_open`, from `prepare_first_reading`) were cut by
        a power loss (or a crash). One goes on if so configured and its EV is still plugged
        in; the others end as PowerLoss."""
        for session in left_open:
            if (
                self.policy.resume_after_power_loss
                and self.session is None
                and pilot in CONNECTED
                and self.all_operative
                and not self._seams.supervisor.faults()
            ):
                self._resume(session)
                continue
            self._end_after_power_loss(session)

    def _resume(self, session: Session) -> None:
        self.session = session
        self._reading_saved_at = self._clock.monotonic()
        log.warning("session %d was open at start-up and its EV is plugged in: resumed", session.id)
        self._guard.tell(self.listeners, lambda listener: listener.session_resumed(session))

    def _end_after_power_loss(self, session: Session) -> None:
        """Ends it on the meter's count: the meter's own if it answers (nothing flowed while
        the box was off, and what flowed before the cut was delivered), else the last reading
        persisted; never below either, nor below the start (a replaced meter). The stop time
        is the last moment the box knew the session running, not the restart time."""
        last = self._log.last_reading(session.id)
        persisted_wh = session.meter_start_wh if last is None else last.energy_wh
        meter_wh = max(persisted_wh, session.meter_start_wh)
        if self._meter.measurements is not None:
            meter_wh = max(meter_wh, self._meter.energy_wh)
        stopped_at = session.started_at if last is None else last.at
        log.warning(
            "session %d was open at start-up; closed as PowerLoss at %.1f Wh", session.id, meter_wh
        )
        self._record_stop(session, stopped_at, meter_wh, StopReason.POWER_LOSS)
