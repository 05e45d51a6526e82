"""The security log (OCPP 1.6 Security Whitepaper): every security event this box can detect,
persisted, bounded, and sent to the CSMS as SecurityEventNotification.

Events are kept in SQLite (the newest `max_entries`; older ones are dropped, which is not
"clearing"); each one also goes into the durable part of the outbox, so an event raised
offline or before a power loss reaches the CSMS once it is back, in order with the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from firmware.clock import Clock, iso_utc, parse_ocpp_datetime
from firmware.store import Store

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
Sender = Callable[[str, dict[str, str]], None]


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
    def __init__(self, store: Store, clock: Clock, max_entries: int = 1000) -> None:
        self._store = store
        self._db = store.db
        self._clock = clock
        self.max_entries = max_entries
        self.sender: Sender | None = None
        """The outbox's durable put, once OCPP runs; None standalone (logged only)."""

    def record(self, event_type: str, tech_info: str = "") -> SecurityEvent:
        if event_type not in EVENTS:
            raise ValueError(f"not a whitepaper security event: {event_type}")
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
                (cursor.lastrowid - self.max_entries,),
            )
            if self.sender is not None:
                payload = {"type": event_type, "timestamp": iso_utc(now)}
                if tech_info:
                    payload["techInfo"] = tech_info
                self.sender("SecurityEventNotification", payload)
        level = logging.WARNING if event_type in CRITICAL_EVENTS else logging.INFO
        log.log(level, "security event %s %s", event_type, tech_info)
        assert cursor.lastrowid is not None
        return SecurityEvent(cursor.lastrowid, event_type, now, tech_info)

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
