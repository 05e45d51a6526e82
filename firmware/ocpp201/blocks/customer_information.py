"""Block N, N09 and N10: CustomerInformation reports what the box keeps about a customer's
id token, forgets it, or both (`CustomerRecords`), in NotifyCustomerInformation pages.

The box knows customers by id token only: a customerIdentifier or a customer certificate (an
ISO 15118 contract certificate, which a pilot-only box never sees) finds nothing, and the
report says so. Report and clear together report what there was, then forget it. Forgetting
cancels the token's reservation, which the CSMS learns as ReservationStatusUpdate Removed.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.identity import ReceivedIdToken
from pievse.firmware.ocpp201.report_pages import put_pages
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.session.customer_records import CustomerRecords
from pievse.firmware.session.reservations import ReservationBook

log = logging.getLogger(__name__)
DATA_MAX_CHARS = 512
NO_DATA = "No data found"
CLEARED = "Customer data cleared; the local list entry stays (the CSMS's own, versioned list)"


def pages(lines: list[str], size: int = DATA_MAX_CHARS) -> list[str]:
    """`lines` joined by newlines into pages of at most `size` characters, a line split only
    where it alone is longer than a page."""
    result: list[str] = []
    page = ""
    for line in lines:
        for start in range(0, max(len(line), 1), size):
            piece = line[start : start + size]
            joined = f"{page}\n{piece}" if page else piece
            if len(joined) <= size:
                page = joined
                continue
            result.append(page)
            page = piece
    return [*result, page] if page else result


class CustomerInformationBlock:
    def __init__(
        self,
        records: CustomerRecords,
        reservations: ReservationBook,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self._records = records
        self._reservations = reservations
        self._outbox = outbox
        self._clock = clock

    @on(Action.customer_information)
    def on_customer_information(
        self,
        request_id: int,
        report: bool,
        clear: bool,
        customer_identifier: str | None = None,
        id_token: ReceivedIdToken | None = None,
        customer_certificate: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        named = (customer_identifier, id_token, customer_certificate) != (None, None, None)
        if not named or not (report or clear):
            return call_result.CustomerInformation(status="Invalid")
        return call_result.CustomerInformation(status="Accepted")

    @after(Action.customer_information)
    def after_customer_information(
        self,
        response: StatusAnswer,
        request_id: int,
        report: bool,
        clear: bool,
        id_token: ReceivedIdToken | None = None,
        **_: Any,
    ) -> None:
        """This request's customer under its requestId (a request answered meanwhile has
        its own)."""
        if response.status != "Accepted":
            return
        token = None if id_token is None else str(id_token["id_token"])
        lines = self._records.describe(token) if token is not None else []
        text = (lines or [NO_DATA]) if report else []
        if clear and token is not None:
            self._forget(token)
            text.append(CLEARED)
        elif clear and not text:
            text = [NO_DATA]
        put_pages(
            self._outbox,
            "NotifyCustomerInformation",
            request_id,
            [{"data": data} for data in pages(text)],
            iso_utc(self._clock.now()),
        )

    def _forget(self, token: str) -> None:
        reservation = self._reservations.current()
        if reservation is not None and reservation.id_tag == token:
            self._reservations.cancel(reservation.id)
            self._outbox.put(
                "ReservationStatusUpdate",
                {"reservationId": reservation.id, "reservationUpdateStatus": "Removed"},
            )
        self._records.erase(token)
        log.info("customer data of an id token erased at the CSMS's request")
