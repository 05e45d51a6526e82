"""Charging sessions: who charged, when, and how much, as the meter counted it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firmware.store import Store


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


class SessionLog:
    def __init__(self, store: Store) -> None:
        self._db = store.db

    def start(self, connector_id: int, id_tag: str, at: datetime, meter_wh: float) -> Session:
        cursor = self._db.execute(
            "INSERT INTO sessions(connector_id, id_tag, started_at, meter_start_wh) "
            "VALUES(?, ?, ?, ?)",
            (connector_id, id_tag, at.isoformat(), meter_wh),
        )
        return Session(int(cursor.lastrowid or 0), connector_id, id_tag, at, meter_wh)

    def stop(self, session: Session, at: datetime, meter_wh: float, reason: str) -> Session:
        self._db.execute(
            "UPDATE sessions SET stopped_at=?, meter_stop_wh=?, stop_reason=? WHERE id=?",
            (at.isoformat(), meter_wh, reason, session.id),
        )
        return Session(
            session.id,
            session.connector_id,
            session.id_tag,
            session.started_at,
            session.meter_start_wh,
            at,
            meter_wh,
            reason,
        )

    def set_transaction_id(self, session_id: int, transaction_id: int) -> None:
        """The CSMS's id for the session, from its StartTransaction answer."""
        self._db.execute(
            "UPDATE sessions SET transaction_id=? WHERE id=?", (transaction_id, session_id)
        )

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

    def open_sessions(self) -> list[Session]:
        return [s for s in self.recent(1000) if s.stopped_at is None]

    def recent(self, limit: int) -> list[Session]:
        rows = self._db.execute(
            "SELECT id, connector_id, id_tag, started_at, meter_start_wh, stopped_at, "
            "meter_stop_wh, stop_reason FROM sessions ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            Session(
                row[0],
                row[1],
                row[2],
                datetime.fromisoformat(row[3]),
                row[4],
                datetime.fromisoformat(row[5]) if row[5] else None,
                row[6],
                row[7],
            )
            for row in rows
        ]
