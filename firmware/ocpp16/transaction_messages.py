"""A transaction as OCPP 1.6 puts it on the wire: StartTransaction, MeterValues and
StopTransaction (`TransactionWire`), and what the CSMS answers to them.

StopTransaction and MeterValues carry the local session id in the outbox until they are
sent, when it becomes the CSMS's transactionId from the StartTransaction answer; a session
whose StartTransaction was never accepted has nothing the CSMS could file them under.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pievse.firmware.clock import iso_utc
from pievse.firmware.csms.outbox import Message, Outbox
from pievse.firmware.csms.transaction_reporter import MeterValue
from pievse.firmware.session.sessions import Session, SessionLog
from pievse.firmware.session.stop_reasons import StopReason

log = logging.getLogger(__name__)
CONNECTOR_ID = 1
REASONS = {
    StopReason.LOCAL: "Local",
    StopReason.REMOTE: "Remote",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.DE_AUTHORIZED: "DeAuthorized",
    StopReason.POWER_LOSS: "PowerLoss",
    StopReason.HARD_RESET: "HardReset",
    StopReason.SOFT_RESET: "SoftReset",
    StopReason.REBOOT: "Reboot",
    StopReason.UNLOCK_COMMAND: "UnlockCommand",
    StopReason.OTHER: "Other",
    StopReason.GROUND_FAULT: "Other",
    StopReason.OVERCURRENT: "Other",
}
"""Why a session ended -> StopTransaction's Reason (which has no fault but EmergencyStop)."""
WITH_ID_TAG = frozenset({StopReason.LOCAL, StopReason.DE_AUTHORIZED})
"""The reasons a StopTransaction names the idTag of (who stopped it)."""


class TransactionMessages:
    def __init__(
        self,
        outbox: Outbox,
        sessions: SessionLog,
        deauthorize: Callable[[int], None],
        id_tag_listeners: Sequence[Callable[[str, dict[str, Any]], None]] = (),
    ) -> None:
        self._outbox = outbox
        self._sessions = sessions
        self._deauthorize = deauthorize
        self._id_tag_listeners = list(id_tag_listeners)
        """Told each idTagInfo the CSMS answers (the authorization cache learns from it)."""
        outbox.answer_handlers["StartTransaction"] = self._started
        outbox.answer_handlers["StopTransaction"] = self._stopped
        outbox.resolvers["StopTransaction"] = self._with_transaction_id
        outbox.resolvers["MeterValues"] = self._with_transaction_id

    # --- TransactionWire -----------------------------------------------------------------

    def started(self, session: Session, begin: MeterValue | None) -> None:
        payload: dict[str, Any] = {
            "connectorId": CONNECTOR_ID,
            "idTag": session.id_tag,
            "meterStart": round(session.meter_start_wh),
            "timestamp": iso_utc(session.started_at),
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        self._outbox.put_transaction("StartTransaction", payload, session.id)
        if begin is not None:
            self.sampled(session, begin)

    def sampled(self, session: Session, value: MeterValue) -> None:
        self._outbox.put_transaction(
            "MeterValues", {"connectorId": CONNECTOR_ID, "meterValue": [value]}, session.id
        )

    def aligned(self, session: Session | None, value: MeterValue) -> None:
        if session is not None:
            self.sampled(session, value)
        else:
            self._outbox.put("MeterValues", {"connectorId": CONNECTOR_ID, "meterValue": [value]})

    def stopped(self, session: Session, reason: StopReason, data: list[MeterValue]) -> None:
        assert session.stopped_at is not None
        payload: dict[str, Any] = {
            "meterStop": round(session.meter_stop_wh or session.meter_start_wh),
            "timestamp": iso_utc(session.stopped_at),
            "reason": REASONS[reason],
        }
        if reason in WITH_ID_TAG:
            payload["idTag"] = session.stop_id_tag or session.id_tag
        if data:
            payload["transactionData"] = data
        self._outbox.put_transaction("StopTransaction", payload, session.id)

    def transaction_id(self, session_id: int) -> int | None:
        return self._sessions.transaction_id(session_id)

    def session_of(self, transaction_id: int) -> int | None:
        return self._sessions.session_for_transaction(transaction_id)

    def meter_values(
        self, connector_id: int, value: MeterValue, session: Session | None
    ) -> dict[str, Any]:
        """A MeterValues payload for a value taken now (TriggerMessage)."""
        payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": [value]}
        if session is not None and connector_id == CONNECTOR_ID:
            transaction_id = self.transaction_id(session.id)
            if transaction_id is not None:
                payload["transactionId"] = transaction_id
        return payload

    # --- the CSMS's answers --------------------------------------------------------------

    def _with_transaction_id(self, message: Message) -> dict[str, Any] | None:
        assert message.session_id is not None
        transaction_id = self._sessions.transaction_id(message.session_id)
        if transaction_id is None:
            log.error(
                "%s of session %d dropped: its StartTransaction was never accepted",
                message.action,
                message.session_id,
            )
            return None
        return {**message.payload, "transactionId": transaction_id}

    def _started(self, message: Message, answer: dict[str, Any]) -> None:
        assert message.session_id is not None
        self._sessions.set_transaction_id(message.session_id, answer["transactionId"])
        info = answer["idTagInfo"]
        if info.get("parentIdTag"):
            self._sessions.set_parent(message.session_id, info["parentIdTag"])
        for listener in self._id_tag_listeners:
            listener(message.payload["idTag"], info)
        status = info["status"]
        if status != "Accepted":
            log.warning("CSMS refused the tag of session %d: %s", message.session_id, status)
            self._deauthorize(message.session_id)

    def _stopped(self, message: Message, answer: dict[str, Any]) -> None:
        id_tag = message.payload.get("idTag")
        if id_tag is not None and "idTagInfo" in answer:
            for listener in self._id_tag_listeners:
                listener(id_tag, answer["idTagInfo"])
