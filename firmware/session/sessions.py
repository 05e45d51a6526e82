"""Charging sessions: who charged, when, and how much, as the meter counted it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pievse.firmware.persistence.store import Store
from pievse.firmware.session.stop_reasons import StopReason

COLUMNS = (
    "id, connector_id, id_tag, started_at, meter_start_wh, stopped_at, meter_stop_wh, "
    "stop_reason, parent_id_tag, reservation_id, stop_id_tag"
)


@dataclass(frozen=True)
class Session:
    id: int
    connector_id: int
    id_tag: str
    started_at: datetime
    meter_start_wh: float
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None
    parent_id_tag: str | None = None
    reservation_id: int | None = None
    """The reservation this session used up (StartTransaction reservationId)."""
    stop_id_tag: str | None = None
    """The tag presented to stop it, where that was another card of the same group."""


@dataclass(frozen=True)
class LastReading:
    energy_wh: float
    at: datetime


class SessionLog:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.db

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        """A session change and the messages that report it commit together, or not at all."""
        return self._store.atomic()

    def start(
        self,
        connector_id: int,
        id_tag: str,
        at: datetime,
        meter_wh: float,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
    ) -> Session:
        cursor = self._db.execute(
            "INSERT INTO sessions(connector_id, id_tag, started_at, meter_start_wh, "
            "parent_id_tag, reservation_id, last_meter_wh, last_meter_at) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            (
                connector_id,
                id_tag,
                at.isoformat(),
                meter_wh,
                parent_id_tag,
                reservation_id,
                meter_wh,
                at.isoformat(),
            ),
        )
        return Session(
            int(cursor.lastrowid or 0),
            connector_id,
            id_tag,
            at,
            meter_wh,
            parent_id_tag=parent_id_tag,
            reservation_id=reservation_id,
        )

    def stop(
        self,
        session: Session,
        at: datetime,
        meter_wh: float,
        reason: StopReason,
        stop_id_tag: str | None = None,
    ) -> Session:
        self._db.execute(
            "UPDATE sessions SET stopped_at=?, meter_stop_wh=?, stop_reason=?, stop_id_tag=? "
            "WHERE id=?",
            (at.isoformat(), meter_wh, reason, stop_id_tag, session.id),
        )
        return replace(
            session,
            stopped_at=at,
            meter_stop_wh=meter_wh,
            stop_reason=reason,
            stop_id_tag=stop_id_tag,
        )

    def note_reading(self, session_id: int, energy_wh: float, at: datetime) -> None:
        """The latest meter reading of a running session: what a power loss ends it with."""
        self._db.execute(
            "UPDATE sessions SET last_meter_wh=?, last_meter_at=? WHERE id=? "
            "AND (last_meter_wh IS NULL OR last_meter_wh<=?)",
            (energy_wh, at.isoformat(), session_id, energy_wh),
        )

    def last_reading(self, session_id: int) -> LastReading | None:
        row = self._db.execute(
            "SELECT last_meter_wh, last_meter_at FROM sessions WHERE id=?", (session_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return LastReading(row[0], datetime.fromisoformat(row[1]))

    def set_transaction_id(self, session_id: int, transaction_id: int) -> None:
        """The CSMS's id for the session, from its StartTransaction answer."""
        self._db.execute(
            "UPDATE sessions SET transaction_id=? WHERE id=?", (transaction_id, session_id)
        )

    def set_parent(self, session_id: int, parent_id_tag: str) -> None:
        """The CSMS told the tag's group only with its StartTransaction answer."""
        self._db.execute(
            "UPDATE sessions SET parent_id_tag=? WHERE id=?", (parent_id_tag, session_id)
        )

    def parent_id_tag(self, session_id: int) -> str | None:
        row = self._db.execute(
            "SELECT parent_id_tag FROM sessions WHERE id=?", (session_id,)
        ).fetchone()
        return None if row is None else row[0]

    def transaction_id(self, session_id: int) -> int | None:
        row = self._db.execute(
            "SELECT transaction_id FROM sessions WHERE id=?", (session_id,)
        ).fetchone()
        return None if row is None else row[0]

    def session_for_transaction(self, transaction_id: int) -> int | None:
        row = self._db.execute(
            "SELECT id FROM sessions WHERE transaction_id=? ORDER BY id DESC LIMIT 1",
            (transaction_id,),
        ).fetchone()
        return None if row is None else row[0]

    def recent(self, count: int) -> list[Session]:
        """The last `count` sessions, newest first (GetDiagnostics)."""
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM sessions ORDER BY id DESC LIMIT ?", (count,)
        ).fetchall()
        return [_session(row) for row in rows]

    def open_sessions(self) -> list[Session]:
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM sessions WHERE stopped_at IS NULL ORDER BY id"
        ).fetchall()
        return [_session(row) for row in rows]


def _session(row: tuple[Any, ...]) -> Session:
    return Session(
        row[0],
        row[1],
        row[2],
        datetime.fromisoformat(row[3]),
        row[4],
        datetime.fromisoformat(row[5]) if row[5] else None,
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
    )
