"""The security log (OCPP 1.6 Security Whitepaper): every security event this box can detect,
persisted, bounded, and sent to the CSMS as SecurityEventNotification.

Events are kept in SQLite (the newest `max_entries`; older ones are dropped, which is not
"clearing"); each one also goes into the durable part of the outbox, so an event raised
offline or before a power loss reaches the CSMS once it is back, in order with the rest.
A burst of one type (a flood of invalid frames) is summed up (`EventBursts`): the first
`burst` of a window are recorded, the rest become one event when the window ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pievse.firmware.clock import Clock, iso_utc, parse_ocpp_datetime
from pievse.firmware.persistence.store import Store
from pievse.firmware.security.event_bursts import EventBursts, Summary

log = logging.getLogger(__name__)
TECH_INFO_MAX = 255

CRITICAL_EVENTS = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
    }
)
"""Marked critical in the whitepaper's list; the log says which, every event is sent."""
EVENTS = CRITICAL_EVENTS | {
    "FailedToAuthenticateAtCentralSystem",
    "CentralSystemFailedToAuthenticate",
    "ReconfigurationOfSecurityParameters",
    "InvalidMessages",
    "InvalidCentralSystemCertificate",
    "InvalidChargePointCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
}
ROUTINE_EVENTS = frozenset(
    {"StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", "FirmwareUpdated"}
)
"""Critical in the whitepaper, but what a box in good health records in the normal course
(every start, a CSMS reset, the clock set at boot, an update it was asked for): logged at
INFO like the events that are not critical; the other critical ones at WARNING."""
Sender = Callable[[str, dict[str, str]], object]
BURST = 10
WINDOW_S = 60.0


@dataclass(frozen=True)
class SecurityEvent:
    id: int
    type: str
    timestamp: datetime
    tech_info: str

    @property
    def critical(self) -> bool:
        return self.type in CRITICAL_EVENTS

    def line(self) -> str:
        mark = "critical" if self.critical else "info"
        return f"{iso_utc(self.timestamp)} {mark} {self.type} {self.tech_info}".rstrip()


class SecurityLog:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        max_entries: int = 1000,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        sender: Sender | None = None,
    ) -> None:
        self._store = store
        self._db = store.db
        self._clock = clock
        self.max_entries = max_entries
        self._bursts = EventBursts(burst, window_s)
        self._sender = sender
        """The outbox's durable put where OCPP runs; None standalone (logged only)."""

    def record(self, event_type: str, tech_info: str = "") -> None:
        if event_type not in EVENTS:
            raise ValueError(f"not a whitepaper security event: {event_type}")
        self.summarise_due()
        if self._bursts.admit(event_type, tech_info, self._clock.monotonic(), self._clock.now()):
            self._write(event_type, tech_info)

    def summarise_due(self) -> None:
        """Writes the summaries of bursts whose window has ended."""
        for summary in self._bursts.due(self._clock.monotonic()):
            self._write_summary(summary)

    def flush(self) -> None:
        """Every burst summed up now: at shutdown no count is lost."""
        for summary in self._bursts.flush():
            self._write_summary(summary)

    async def run(self) -> None:
        """Writes each summary when its window ends, also when no new event comes."""
        while True:
            due = self._bursts.next_due()
            wait = 1.0 if due is None else due - self._clock.monotonic()
            await asyncio.sleep(min(max(wait, 0.0), 1.0))
            self.summarise_due()

    def _write_summary(self, summary: Summary) -> None:
        self._write(
            summary.event_type,
            f"{summary.count} more {summary.event_type} from {iso_utc(summary.first)} "
            f"to {iso_utc(summary.last)}; last: {summary.last_info}",
        )

    def _write(self, event_type: str, tech_info: str) -> None:
        now = self._clock.now()
        # From the wire it may hold a lone surrogate, which SQLite cannot store.
        tech_info = tech_info.encode("utf-8", "backslashreplace").decode()[:TECH_INFO_MAX]
        with self._store.atomic():
            cursor = self._db.execute(
                "INSERT INTO security_log(type, timestamp, tech_info) VALUES(?, ?, ?)",
                (event_type, iso_utc(now), tech_info),
            )
            self._db.execute(
                "DELETE FROM security_log WHERE id <= ?",
                ((cursor.lastrowid or 0) - self.max_entries,),
            )
            if self._sender is not None:
                payload = {"type": event_type, "timestamp": iso_utc(now)}
                if tech_info:
                    payload["techInfo"] = tech_info
                self._sender("SecurityEventNotification", payload)
        notable = event_type in CRITICAL_EVENTS and event_type not in ROUTINE_EVENTS
        level = logging.WARNING if notable else logging.INFO
        log.log(level, "security event %s %s", event_type, tech_info)

    def events(
        self, oldest: datetime | None = None, latest: datetime | None = None
    ) -> list[SecurityEvent]:
        rows = self._db.execute(
            "SELECT id, type, timestamp, tech_info FROM security_log ORDER BY id"
        ).fetchall()
        found = [SecurityEvent(i, t, parse_ocpp_datetime(ts), info) for i, t, ts, info in rows]
        return [
            e
            for e in found
            if (oldest is None or e.timestamp >= oldest)
            and (latest is None or e.timestamp <= latest)
        ]

    def clear(self) -> None:
        """Empties the log; the clearing is itself the first entry of the new one."""
        self._db.execute("DELETE FROM security_log")
        self.record("SecurityLogWasCleared", "security log cleared on the box")
