"""Smart charging at run time: the installed profiles as a limit source of the control loop.

The composite for the next day is computed once per change (a profile set or cleared, a
transaction starting or ending) and kept; the control loop's limit lookup is then a search
in a short list, and a timer wakes the loop at each period boundary, so the pilot follows a
schedule to the tick instead of at the next poll.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pievse.firmware.charging.composite_schedule import Context, Segment, composite, from_amps
from pievse.firmware.charging.profiles import UNITS, ChargingProfile, ProfileError, parse_profile
from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import (
    CHARGE_PROFILE_MAX_STACK_LEVEL,
    CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT,
    CHARGING_SCHEDULE_MAX_PERIODS,
    MAX_CHARGING_PROFILES_INSTALLED,
)
from pievse.firmware.csms.profile_store import ProfileStore
from pievse.firmware.event_wait import wait_set
from pievse.firmware.session.sessions import Session
from pievse.firmware.session.stop_reasons import StopReason
from pievse.hal.interfaces import Ratings

log = logging.getLogger(__name__)
HORIZON = timedelta(days=1)
MAX_COMPOSITE_S = 366 * 86_400
"""GetCompositeSchedule answers at most a year ahead; its duration field says so."""
CONNECTOR_IDS = (0, 1)


class SmartCharging:
    def __init__(
        self,
        profiles: ProfileStore,
        keys: ConfigurationKeys,
        clock: Clock,
        ratings: Ratings,
        session: Callable[[], Session | None],
        transaction_id: Callable[[int], int | str | None],
        wake: Callable[[], None],
        phases: Callable[[], int],
    ) -> None:
        """`phases`: those the current flows on now; W limits convert with them."""
        self._profiles = profiles
        self._keys = keys
        self._clock = clock
        self._ratings = ratings
        self._session = session
        self._transaction_id = transaction_id
        self._wake = wake
        self._phases = phases
        self._changed = asyncio.Event()
        self._cache: tuple[datetime, datetime, list[Segment], list[datetime]] | None = None
        self._cache_key: tuple[int | None, int] | None = None
        self._remote_start: tuple[ChargingProfile, dict[str, Any]] | None = None

    # --- what the CSMS asks ---------------------------------------------------------------

    def set_profile(self, connector_id: int, payload: dict[str, Any]) -> str:
        """SetChargingProfile: "Accepted" or "Rejected" (the reason is logged)."""
        try:
            profile = self._checked(connector_id, payload)
            session = self._session()
            if profile.purpose == "TxProfile":
                if session is None:
                    raise ProfileError("a TxProfile needs a running transaction")
                running = self._transaction_id(session.id)
                if profile.transaction_id is not None and profile.transaction_id != running:
                    raise ProfileError(
                        f"transactionId {profile.transaction_id} is not the running one ({running})"
                    )
                profile = replace(profile, session_id=session.id)
            self._check_room(profile)
        except ProfileError as exc:
            log.warning("SetChargingProfile rejected: %s", exc)
            return "Rejected"
        self._profiles.install(profile, payload)
        log.info("charging profile %d installed (%s)", profile.id, profile.purpose)
        self._changed_now()
        return "Accepted"

    def remote_start_profile_fits(self, payload: dict[str, Any]) -> bool:
        """Whether RemoteStartTransaction's profile could be taken (the answer's check; the
        request's `after` step takes it, so a request answered meanwhile cannot swap it)."""
        return self._remote_start_profile(payload) is not None

    def accept_remote_start_profile(self, payload: dict[str, Any]) -> bool:
        """RemoteStartTransaction's profile: a TxProfile kept until the session starts."""
        profile = self._remote_start_profile(payload)
        if profile is None:
            return False
        self._remote_start = (profile, payload)
        return True

    def _remote_start_profile(self, payload: dict[str, Any]) -> ChargingProfile | None:
        try:
            profile = self._checked(1, payload)
            if profile.purpose != "TxProfile":
                raise ProfileError(f"a remote start carries a TxProfile, not {profile.purpose}")
            if profile.transaction_id is not None:
                raise ProfileError("a remote start's TxProfile cannot name a transactionId yet")
            self._check_room(profile)
        except ProfileError as exc:
            log.warning("RemoteStartTransaction profile rejected: %s", exc)
            return None
        return profile

    def forget_remote_start_profile(self) -> None:
        self._remote_start = None

    def clear(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> str:
        """ClearChargingProfile: an id alone decides; otherwise every given filter must
        match. "Accepted" when something was removed, else "Unknown"."""

        def matches(p: ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        removed = self._profiles.remove(matches)
        if not removed:
            return "Unknown"
        log.info("%d charging profile(s) cleared", removed)
        self._changed_now()
        return "Accepted"

    def composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any] | None:
        """GetCompositeSchedule's chargingSchedule from now, or None for an unknown connector.
        Where no profile limits, the board rating is what the box will do."""
        if connector_id not in CONNECTOR_IDS:
            return None
        unit = unit or "A"
        duration_s = min(duration_s, MAX_COMPOSITE_S)
        start = self._clock.now()
        end = start + timedelta(seconds=duration_s)
        context = self._context()
        segments = composite(self._applicable(), connector_id, start, end, context)
        board = self._ratings.max_current_a
        pieces: list[tuple[datetime, float, int]] = []
        cursor = start
        for segment in segments:
            if segment.start > cursor:
                pieces.append((cursor, board, context.phases))
            pieces.append((segment.start, min(board, segment.limit_a), segment.phases))
            cursor = segment.end
        if cursor < end:
            pieces.append((cursor, board, context.phases))
        volts = self._ratings.nominal_voltage_v
        periods: list[dict[str, Any]] = []
        for at, amps, phases in pieces:
            entry = {
                "start_period": int((at - start).total_seconds()),
                "limit": round(from_amps(amps, unit, context.phases, volts), 1),
                "number_phases": phases,
            }
            if periods and periods[-1]["start_period"] == entry["start_period"]:
                periods.pop()  # shorter than the one-second resolution: the later one holds
            if periods and (periods[-1]["limit"], periods[-1]["number_phases"]) == (
                entry["limit"],
                phases,
            ):
                continue
            periods.append(entry)
        return {
            "duration": duration_s,
            "start_schedule": iso_utc(start),
            "charging_rate_unit": unit,
            "charging_schedule_period": periods,
        }

    # --- transactions ---------------------------------------------------------------------

    def session_started(self, session: Session) -> None:
        pending, self._remote_start = self._remote_start, None
        if pending is not None:
            profile, payload = pending
            self._profiles.install(replace(profile, session_id=session.id), payload)
            log.info("remote start's TxProfile %d bound to session %d", profile.id, session.id)
        self._changed_now()

    def session_resumed(self, _session: Session) -> None:
        """Its TxProfiles are still bound to it in the store; the composite now has them."""
        self._changed_now()

    def session_stopped(self, session: Session, _reason: StopReason) -> None:
        """A transaction's TxProfiles end with it (OCPP 1.6 3.13.4)."""
        self._profiles.remove(lambda p: p.purpose == "TxProfile" and p.session_id == session.id)
        self._changed_now()

    # --- the control loop -------------------------------------------------------------------

    def limit_a(self, now: datetime) -> float | None:
        segment = self._segment_at(now)
        return None if segment is None else segment.limit_a

    def requested_phases(self, now: datetime) -> int | None:
        """The numberPhases of the period that limits now, where it names one."""
        segment = self._segment_at(now)
        return None if segment is None else segment.requested_phases

    def installed(self) -> list[tuple[ChargingProfile, dict[str, Any]]]:
        """What GetChargingProfiles reports: each profile with the payload it was set with."""
        return self._profiles.installed()

    def describe(self) -> dict[str, Any] | None:
        """The profile that limits now, for /api/status."""
        segment = self._segment_at(self._clock.now())
        if segment is None:
            return None
        return {
            "profile_id": segment.profile.id,
            "purpose": segment.profile.purpose,
            "stack_level": segment.profile.stack_level,
            "limit_a": round(segment.limit_a, 2),
        }

    async def run(self) -> None:
        """Wakes the control loop at every instant the composite changes."""
        while True:
            self._changed.clear()
            now = self._clock.now()
            due = self._next_change(now)
            if not await wait_set(self._changed, max(0.0, (due - now).total_seconds())):
                self._wake()

    # --- inside -----------------------------------------------------------------------------

    def _checked(self, connector_id: int, payload: dict[str, Any]) -> ChargingProfile:
        if connector_id not in CONNECTOR_IDS:
            raise ProfileError(f"unknown connector {connector_id}")
        profile = parse_profile(payload, connector_id, self._clock.now())
        max_stack = self._keys.get(CHARGE_PROFILE_MAX_STACK_LEVEL)
        if profile.stack_level > max_stack:
            raise ProfileError(f"stackLevel {profile.stack_level} above {max_stack}")
        allowed = self._keys.get(CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT)
        if UNITS[profile.schedule.unit] not in allowed:
            raise ProfileError(f"chargingRateUnit {profile.schedule.unit} not in {allowed}")
        max_periods = self._keys.get(CHARGING_SCHEDULE_MAX_PERIODS)
        if len(profile.schedule.periods) > max_periods:
            raise ProfileError(f"more than {max_periods} periods")
        return profile

    def _check_room(self, profile: ChargingProfile) -> None:
        installed = len(self._profiles.all()) - len(self._profiles.replaced_by(profile))
        limit = self._keys.get(MAX_CHARGING_PROFILES_INSTALLED)
        if installed + 1 > limit:
            raise ProfileError(f"{limit} profiles installed already (MaxChargingProfilesInstalled)")

    def _changed_now(self) -> None:
        self._cache = None
        self._changed.set()
        self._wake()

    def _applicable(self) -> list[ChargingProfile]:
        session = self._session()
        current = None if session is None else session.id
        return [
            p for p in self._profiles.all() if p.purpose != "TxProfile" or p.session_id == current
        ]

    def _context(self) -> Context:
        session = self._session()
        return Context(
            self._ratings.nominal_voltage_v,
            self._phases(),
            None if session is None else session.started_at,
        )

    def _timeline(self, now: datetime) -> tuple[list[Segment], list[datetime], datetime]:
        session = self._session()
        key = (None if session is None else session.id, self._phases())
        cache = self._cache
        if cache is None or key != self._cache_key or not cache[0] <= now < cache[1]:
            end = now + HORIZON
            segments = composite(self._applicable(), 1, now, end, self._context())
            cache = (now, end, segments, [s.start for s in segments])
            self._cache, self._cache_key = cache, key
        return cache[2], cache[3], cache[1]

    def _segment_at(self, now: datetime) -> Segment | None:
        segments, starts, _ = self._timeline(now)
        index = bisect.bisect_right(starts, now) - 1
        if index >= 0 and now < segments[index].end:
            return segments[index]
        return None

    def _next_change(self, now: datetime) -> datetime:
        segments, _, horizon = self._timeline(now)
        instants = [t for s in segments for t in (s.start, s.end) if t > now]
        return min(instants, default=horizon)
