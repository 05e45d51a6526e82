"""TriggerMessage (F06) in 2.0.1 terms: requestedMessage -> what sends it now.

Triggered messages go out directly, not through the outbox, as in 1.6; the remote control
block answers first and calls the sender after. The box has one EVSE, so the evse asked for
(checked by the block) never changes what goes out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.front.contract import Jobs, status_payload
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID
from pievse.firmware.ocpp201.transaction_events import TransactionEvents, meter_value
from pievse.firmware.session.sessions import Session

Trigger = Callable[[dict[str, Any] | None], Awaitable[None]]
"""(the evse asked for, if any) -> the message sent."""


class TriggeredMessages:
    def __init__(
        self,
        *,
        csms: CsmsSession,
        statuses: StatusReporter,
        transactions: TransactionReporter,
        events: TransactionEvents,
        current_session: Callable[[], Session | None],
        jobs: Jobs,
        sign_certificate: Callable[[], Awaitable[None]],
    ) -> None:
        self._csms = csms
        self._statuses = statuses
        self._transactions = transactions
        self._events = events
        self._current_session = current_session
        self._jobs = jobs
        self._sign_certificate = sign_certificate

    def senders(self) -> dict[str, Trigger]:
        return {
            "BootNotification": self._boot,
            "Heartbeat": self._heartbeat,
            "StatusNotification": self._status,
            "MeterValues": self._meter_values,
            "TransactionEvent": self._transaction_event,
            "FirmwareStatusNotification": self._firmware_status,
            "LogStatusNotification": self._log_status,
            "SignChargingStationCertificate": self._sign,
        }

    async def _boot(self, _evse: dict[str, Any] | None) -> None:
        await self._csms.boot()

    async def _heartbeat(self, _evse: dict[str, Any] | None) -> None:
        self._csms.set_time((await self._csms.request("Heartbeat", {}))["currentTime"])

    async def _status(self, _evse: dict[str, Any] | None) -> None:
        await self._csms.request("StatusNotification", self._statuses.notification(CONNECTOR_ID))

    async def _meter_values(self, _evse: dict[str, Any] | None) -> None:
        value = self._transactions.current_value("Trigger")
        converted = None if value is None else meter_value(value)
        if converted is not None:
            await self._csms.request("MeterValues", {"evseId": EVSE_ID, "meterValue": [converted]})

    async def _transaction_event(self, _evse: dict[str, Any] | None) -> None:
        session = self._current_session()
        if session is not None:
            self._events.triggered(session, self._transactions.current_value("Trigger"))

    async def _firmware_status(self, _evse: dict[str, Any] | None) -> None:
        firmware = self._jobs.firmware
        await self._csms.request(
            "FirmwareStatusNotification",
            status_payload(firmware.current_status(signed_form=True), firmware.request_id),
        )

    async def _log_status(self, _evse: dict[str, Any] | None) -> None:
        await self._jobs.log_uploads.notify_current()

    async def _sign(self, _evse: dict[str, Any] | None) -> None:
        await self._sign_certificate()
