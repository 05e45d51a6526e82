"""TriggerMessage (OCPP 1.6 Remote Trigger profile) and ExtendedTriggerMessage (Security
Whitepaper): the answer first, then the message.

Triggered messages go out directly, not through the outbox queue, because they are also
allowed while registration is Pending, when nothing else may be sent. The extended messages
(LogStatusNotification, SignChargePointCertificate, FirmwareStatusNotification as its signed
form) come from their owners through `extended`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.ocpp16.status_notifications import CONNECTORS
from pievse.firmware.ocpp16.transaction_messages import TransactionMessages
from pievse.firmware.rpc.connection import RequestFailed
from pievse.firmware.rpc.routes import after, on

log = logging.getLogger(__name__)
BASIC_MESSAGES = ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues")


class RemoteTriggerProfile:
    def __init__(
        self,
        csms: CsmsSession,
        statuses: StatusReporter,
        transactions: TransactionReporter,
        messages: TransactionMessages,
        extended: Mapping[str, Callable[[], Awaitable[None]]],
        current: Mapping[str, Callable[[], dict[str, Any]]],
    ) -> None:
        self._csms = csms
        self._statuses = statuses
        self._transactions = transactions
        self._messages = messages
        self.extended = dict(extended)
        """ExtendedTriggerMessage requestedMessage -> what sends it."""
        self.current = dict(current)
        """TriggerMessage Firmware/DiagnosticsStatusNotification -> the payload of now."""

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None) -> Any:
        if connector_id is not None and connector_id not in CONNECTORS:
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> None:
        if connector_id is not None and connector_id not in CONNECTORS:
            return
        try:
            await self._send(requested_message, connector_id)
        except RequestFailed as exc:
            log.warning("triggered %s failed: %s", requested_message, exc)

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> Any:
        if connector_id is not None and connector_id not in CONNECTORS:
            return call_result.ExtendedTriggerMessage(status="Rejected")
        if requested_message not in (*self.extended, *BASIC_MESSAGES):
            return call_result.ExtendedTriggerMessage(status="NotImplemented")
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @after(Action.extended_trigger_message)
    async def after_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> None:
        if connector_id is not None and connector_id not in CONNECTORS:
            return
        try:
            sender = self.extended.get(requested_message)
            if sender is not None:
                await sender()
            elif requested_message in BASIC_MESSAGES:
                await self._send(requested_message, connector_id)
        except RequestFailed as exc:
            log.warning("triggered %s failed: %s", requested_message, exc)

    async def _send(self, message: str, connector_id: int | None) -> None:
        csms = self._csms
        if message == "BootNotification":
            await csms.boot()
        elif message == "Heartbeat":
            csms.set_time((await csms.request("Heartbeat", {}))["currentTime"])
        elif message == "StatusNotification":
            for connector in CONNECTORS if connector_id is None else (connector_id,):
                await csms.request("StatusNotification", self._statuses.notification(connector))
        elif message == "MeterValues":
            value = self._transactions.current_value("Trigger")
            if value is not None:
                payload = self._messages.meter_values(
                    1 if connector_id is None else connector_id, value, self._transactions.session
                )
                await csms.request("MeterValues", payload)
        elif message in self.current:
            await csms.request(message, self.current[message]())
