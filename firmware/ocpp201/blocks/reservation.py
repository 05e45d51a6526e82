"""Block H, reservation (H01-H04): ReserveNow for the box's EVSE or any EVSE, and
CancelReservation; the book is the one 1.6 uses, so a reservation outlives a change of
version. A reservation's groupIdToken lets the group's other tokens use it."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.control.station import ReservationView
from pievse.firmware.ocpp201.identity import ReceivedIdToken
from pievse.firmware.rpc.routes import on
from pievse.firmware.session.reservations import Reservation, ReservationBook

log = logging.getLogger(__name__)
CONNECTOR_TYPE = "cType2"


class ReservationBlock:
    def __init__(self, book: ReservationBook, controller: ReservationView) -> None:
        self._book = book
        self._controller = controller

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: ReceivedIdToken,
        evse_id: int | None = None,
        connector_type: str | None = None,
        group_id_token: ReceivedIdToken | None = None,
        **_: Any,
    ) -> Any:
        if evse_id not in (None, 1) or connector_type not in (None, CONNECTOR_TYPE):
            return call_result.ReserveNow(status="Rejected")
        try:
            expires_at = parse_ocpp_datetime(expiry_date_time)
        except ValueError as exc:
            log.warning("ReserveNow %d refused: expiryDateTime %s", id, exc)
            return call_result.ReserveNow(status="Rejected")
        group = None if group_id_token is None else group_id_token["id_token"]
        controller = self._controller
        status = self._book.reserve_now(
            Reservation(id, 0 if evse_id is None else 1, id_token["id_token"], group, expires_at),
            True,
            controller.box_status().status,
            controller.connector_status().status,
        )
        if status == "Accepted":
            controller.wake()
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        cancelled = self._book.cancel(reservation_id)
        if cancelled:
            self._controller.wake()
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")
