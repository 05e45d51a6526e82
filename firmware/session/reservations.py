"""Reservations (OCPP 1.6 5.13): the connector waits for one driver until a time.

This box has one connector, so a reservation on connector 0 ("any connector") and one on
connector 1 hold the same outlet; at most one reservation exists at a time. It is kept in
SQLite so a restart does not hand a reserved outlet to someone else, and it ends when it
expires, is cancelled, or a session of its driver starts (which then carries its id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pievse.firmware.clock import Clock
from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import IdTagInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expires_at: datetime

    def admits(self, id_tag: str, info: IdTagInfo | None) -> bool:
        """The reserved driver: the incoming tag or its parent matches the reservation's
        tag or parent (a group's cards share its reservations)."""
        theirs = {self.id_tag, self.parent_id_tag} - {None}
        incoming = {id_tag, None if info is None else info.parent_id_tag} - {None}
        return bool(theirs & incoming)


def reserve_now_answer(
    connector_id: int,
    zero_supported: bool,
    box_status: str,
    connector_status: str,
    existing: Reservation | None,
    reservation_id: int,
) -> str:
    """ReserveNow.conf status for a request, from what the box looks like now.

    A request with the id of the current reservation replaces it (5.13); otherwise the
    outlet must be free: Faulted and Unavailable name why not, anything in use (an EV
    plugged in, a session, another reservation) is Occupied.
    """
    if connector_id not in (0, 1) or (connector_id == 0 and not zero_supported):
        return "Rejected"
    if existing is not None and existing.id == reservation_id:
        return "Accepted"
    if "Faulted" in (box_status, connector_status):
        return "Faulted"
    if "Unavailable" in (box_status, connector_status):
        return "Unavailable"
    if existing is not None or connector_status != "Available":
        return "Occupied"
    return "Accepted"


class ReservationBook:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._db = store.db
        self._clock = clock
        self.expiry_listeners: list[Callable[[int], object]] = []
        """Told the id of a reservation that has just expired (2.0.1 reports it)."""
        row = self._db.execute(
            "SELECT id, connector_id, id_tag, parent_id_tag, expires_at FROM reservations "
            "ORDER BY expires_at DESC LIMIT 1"
        ).fetchone()
        self._current: Reservation | None = None
        if row is not None:
            self._current = Reservation(
                row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4])
            )

    def current(self) -> Reservation | None:
        """The reservation in force now; an expired one ends here."""
        reservation = self._current
        if reservation is not None and self._clock.now() >= reservation.expires_at:
            log.info("reservation %d for %s expired", reservation.id, reservation.id_tag)
            self._end(reservation.id)
            for listener in self.expiry_listeners:
                listener(reservation.id)
            return None
        return reservation

    def reserve_now(
        self, reservation: Reservation, zero_supported: bool, box_status: str, connector_status: str
    ) -> str:
        """A ReserveNow in either OCPP version (their statuses are the same): placed when
        the answer is Accepted; one that has already expired is Rejected."""
        if reservation.expires_at <= self._clock.now():
            log.warning("reservation %d refused: it expired already", reservation.id)
            return "Rejected"
        status = reserve_now_answer(
            reservation.connector_id,
            zero_supported,
            box_status,
            connector_status,
            self.current(),
            reservation.id,
        )
        if status == "Accepted":
            self.place(reservation)
        else:
            log.info("reservation %d for %s: %s", reservation.id, reservation.id_tag, status)
        return status

    def place(self, reservation: Reservation) -> None:
        """Stores it, replacing whatever reservation there was (same id, or the outlet's)."""
        self._db.execute("DELETE FROM reservations")
        self._db.execute(
            "INSERT INTO reservations(id, connector_id, id_tag, parent_id_tag, expires_at) "
            "VALUES(?, ?, ?, ?, ?)",
            (
                reservation.id,
                reservation.connector_id,
                reservation.id_tag,
                reservation.parent_id_tag,
                reservation.expires_at.isoformat(),
            ),
        )
        self._current = reservation
        log.info(
            "reservation %d on connector %d for %s until %s",
            reservation.id,
            reservation.connector_id,
            reservation.id_tag,
            reservation.expires_at.isoformat(),
        )

    def cancel(self, reservation_id: int) -> bool:
        reservation = self.current()
        if reservation is None or reservation.id != reservation_id:
            return False
        log.info("reservation %d cancelled", reservation_id)
        self._end(reservation_id)
        return True

    def use(self, id_tag: str, info: IdTagInfo | None) -> int | None:
        """A session of `id_tag` starts: the reservation it used ends, and its id is
        returned for the StartTransaction."""
        reservation = self.current()
        if reservation is None or not reservation.admits(id_tag, info):
            return None
        log.info("reservation %d used by %s", reservation.id, id_tag)
        self._end(reservation.id)
        return reservation.id

    def _end(self, reservation_id: int) -> None:
        self._db.execute("DELETE FROM reservations WHERE id=?", (reservation_id,))
        self._current = None
