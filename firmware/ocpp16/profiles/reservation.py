"""What the CSMS may ask under the OCPP 1.6 Reservation profile: ReserveNow, CancelReservation."""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.control.station import ReservationView
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import RESERVE_CONNECTOR_ZERO_SUPPORTED
from pievse.firmware.rpc.routes import on
from pievse.firmware.session.reservations import Reservation, ReservationBook

log = logging.getLogger(__name__)


class ReservationProfile:
    def __init__(
        self,
        book: ReservationBook,
        controller: ReservationView,
        keys: ConfigurationKeys,
    ) -> None:
        self._book = book
        self._controller = controller
        self._keys = keys

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
    ) -> Any:
        try:
            expires_at = parse_ocpp_datetime(expiry_date)
        except ValueError as exc:
            log.warning("ReserveNow %d refused: expiryDate %s", reservation_id, exc)
            return call_result.ReserveNow(status="Rejected")
        controller = self._controller
        status = self._book.reserve_now(
            Reservation(reservation_id, connector_id, id_tag, parent_id_tag, expires_at),
            self._keys.get(RESERVE_CONNECTOR_ZERO_SUPPORTED),
            controller.box_status().status,
            controller.connector_status().status,
        )
        if status == "Accepted":
            controller.wake()
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        cancelled = self._book.cancel(reservation_id)
        if cancelled:
            self._controller.wake()
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")
