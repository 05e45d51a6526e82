"""A transaction as OCPP 2.0.1 puts it on the wire: TransactionEvent Started, Updated and
Ended (E01-E07, E15, J02), each with its trigger, a sequence number and the `offline` flag.

- The box names its transactions (`transaction_id`): the session's id and start time, so a
  restored database never reuses one. Nothing waits for the CSMS's answer to send the next
  event, unlike 1.6's StopTransaction.
- seqNo counts every TransactionEvent of a transaction from 0. The next number is persisted
  in the same store transaction as the event it numbers, so a power loss neither reuses nor
  skips one.
- `offline` is true for an event that happened while the box was not registered with the
  CSMS; such events wait in the durable outbox and go out in order (E04).
- A change of charging state (Charging, SuspendedEV, SuspendedEVSE, EVConnected, Idle) is an
  Updated event of its own (ChargingStateChanged); periodic and clock-aligned values are
  Updated events with their meter values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.control.connector_status import ConnectorState
from pievse.firmware.control.faults import REPORTS, Fault
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.transaction_reporter import MeterValue
from pievse.firmware.ocpp201.identity import id_token
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID
from pievse.firmware.persistence.store import Store
from pievse.firmware.session.sessions import Session
from pievse.firmware.session.stop_reasons import StopReason

log = logging.getLogger(__name__)
SEQUENCE_KEY = "ocpp201:transaction_seq"
MEASURANDS = frozenset(
    {
        "Current.Export",
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Frequency",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Factor",
        "Power.Offered",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "SoC",
        "Voltage",
    }
)
"""What 2.0.1's MeasurandEnumType has of the box's measurands (no Temperature, no RPM)."""
STOPPED_REASONS = {
    StopReason.LOCAL: "Local",
    StopReason.REMOTE: "Remote",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.DE_AUTHORIZED: "DeAuthorized",
    StopReason.POWER_LOSS: "PowerLoss",
    StopReason.HARD_RESET: "ImmediateReset",
    StopReason.SOFT_RESET: "ImmediateReset",
    StopReason.REBOOT: "Reboot",
    StopReason.UNLOCK_COMMAND: "Other",
    StopReason.OTHER: "Other",
    StopReason.GROUND_FAULT: "GroundFault",
    StopReason.OVERCURRENT: "OvercurrentFault",
}
"""Why a session ended -> the Ended event's stoppedReason (ReasonEnumType)."""
ENDED_TRIGGERS = {
    StopReason.LOCAL: "StopAuthorized",
    StopReason.DE_AUTHORIZED: "Deauthorized",
    StopReason.EV_DISCONNECTED: "EVCommunicationLost",
    StopReason.REMOTE: "RemoteStop",
    StopReason.HARD_RESET: "ResetCommand",
    StopReason.SOFT_RESET: "ResetCommand",
    StopReason.REBOOT: "ResetCommand",
    StopReason.UNLOCK_COMMAND: "UnlockCommand",
}
"""Why a transaction ended -> the Ended event's triggerReason; AbnormalCondition otherwise."""
CHARGING_STATES = {
    ConnectorState.CHARGING: "Charging",
    ConnectorState.SUSPENDED_EV: "SuspendedEV",
    ConnectorState.SUSPENDED_EVSE: "SuspendedEVSE",
    ConnectorState.PREPARING: "EVConnected",
    ConnectorState.FINISHING: "EVConnected",
}
"""The domain's connector state during a transaction -> chargingState; Idle otherwise."""


def charging_state(connector_status: ConnectorState) -> str:
    return CHARGING_STATES.get(connector_status, "Idle")


def meter_value(value: MeterValue) -> dict[str, Any] | None:
    """The 2.0.1 form of a 1.6-shaped MeterValue: numbers, unitOfMeasure, no format; None
    when none of its measurands exists in 2.0.1."""
    sampled = []
    for entry in value["sampledValue"]:
        if entry.get("measurand", "Energy.Active.Import.Register") not in MEASURANDS:
            continue
        converted: dict[str, Any] = {"value": float(entry["value"])}
        for name in ("context", "measurand", "phase", "location"):
            if name in entry:
                converted[name] = entry[name]
        if "unit" in entry:
            converted["unitOfMeasure"] = {"unit": entry["unit"]}
        sampled.append(converted)
    return {"timestamp": value["timestamp"], "sampledValue": sampled} if sampled else None


def transaction_id(session: Session) -> str:
    return f"{session.id}-{session.started_at:%Y%m%dT%H%M%S}"


class TransactionEvents:
    def __init__(
        self,
        outbox: Outbox,
        store: Store,
        clock: Clock,
        online: Callable[[], bool],
        current_session: Callable[[], Session | None],
        connector_status: Callable[[], ConnectorState],
        faults: Callable[[], Iterable[Fault]] = tuple,
    ) -> None:
        """`faults`: the active ones, most severe first; a transaction a fault ends is
        stopped for the worst one's reason in the fault table."""
        self._outbox = outbox
        self._faults = faults
        self._store = store
        self._clock = clock
        self._online = online
        self._current_session = current_session
        self._connector_status = connector_status
        self._expected: tuple[str, str, int] | None = None
        """(idToken, type, remoteStartId) of the remote start whose session is to begin."""
        self._remote_start_ids: dict[int, int] = {}
        """session id -> the remoteStartId of the RequestStartTransaction that began it."""
        self._token_types: dict[int, str] = {}
        """session id -> the idToken type it was authorized with, where not the reader's."""
        self._state: tuple[int, str] | None = None
        """(session id, chargingState) last reported."""

    # --- TransactionWire -----------------------------------------------------------------

    def expect_remote_start(self, id_tag: str, token_type: str, remote_start_id: int) -> None:
        """The next session of this token was begun by the CSMS (its Started event says so)."""
        self._expected = (id_tag, token_type, remote_start_id)

    def started(self, session: Session, begin: MeterValue | None) -> None:
        state = charging_state(self._connector_status())
        self._state = (session.id, state)
        if self._expected is not None and self._expected[0] == session.id_tag:
            _, token_type, remote_start_id = self._expected
            self._remote_start_ids[session.id] = remote_start_id
            self._token_types[session.id] = token_type
        self._expected = None
        remote = self._remote_start_ids.get(session.id)
        info: dict[str, Any] = {"transactionId": transaction_id(session), "chargingState": state}
        if remote is not None:
            info["remoteStartId"] = remote
        event: dict[str, Any] = {
            "eventType": "Started",
            "timestamp": iso_utc(session.started_at),
            "triggerReason": "Authorized" if remote is None else "RemoteStart",
            "transactionInfo": info,
            "idToken": self._token(session, session.id_tag),
            "evse": {"id": EVSE_ID, "connectorId": CONNECTOR_ID},
        }
        if session.reservation_id is not None:
            event["reservationId"] = session.reservation_id
        self._put(session, event, [begin] if begin is not None else [])

    def sampled(self, session: Session, value: MeterValue) -> None:
        self._updated(session, "MeterValuePeriodic", value)

    def aligned(self, session: Session | None, value: MeterValue) -> None:
        if session is not None:
            self._updated(session, "MeterValueClock", value)
            return
        converted = meter_value(value)
        if converted is not None:
            self._outbox.put("MeterValues", {"evseId": EVSE_ID, "meterValue": [converted]})

    def stopped(self, session: Session, reason: StopReason, data: list[MeterValue]) -> None:
        assert session.stopped_at is not None
        event: dict[str, Any] = {
            "eventType": "Ended",
            "timestamp": iso_utc(session.stopped_at),
            "triggerReason": ENDED_TRIGGERS.get(reason, "AbnormalCondition"),
            "transactionInfo": {
                "transactionId": transaction_id(session),
                "stoppedReason": self._stopped_reason(reason),
            },
        }
        if reason in (StopReason.LOCAL, StopReason.DE_AUTHORIZED):
            event["idToken"] = self._token(session, session.stop_id_tag or session.id_tag)
        self._put(session, event, data)
        self._state = None
        self._remote_start_ids.pop(session.id, None)
        self._token_types.pop(session.id, None)

    def _stopped_reason(self, reason: StopReason) -> str:
        """The domain's reason in 2.0.1 terms; the controller ends a session for a fault as
        Other, and the fault it ended for is still active while the Ended event is made."""
        if reason == StopReason.OTHER:
            ending = [f for f in self._faults() if REPORTS[f].ends_session]
            if ending:
                return STOPPED_REASONS[REPORTS[min(ending, key=list(Fault).index)].stop_reason]
        return STOPPED_REASONS[reason]

    def rate_changed(self, session: Session, value: MeterValue | None) -> None:
        """The offered current moved (see `charging_rate`): Updated ChargingRateChanged."""
        self._updated(session, "ChargingRateChanged", value)

    def triggered(self, session: Session, value: MeterValue | None) -> None:
        """TriggerMessage TransactionEvent: an Updated event with the values of now."""
        self._updated(session, "Trigger", value)

    def current_transaction_id(self) -> str | None:
        session = self._current_session()
        return None if session is None else transaction_id(session)

    def transaction_id(self, session_id: int) -> str | None:
        session = self._current_session()
        return transaction_id(session) if session is not None and session.id == session_id else None

    def session_of(self, transaction: str) -> int | None:
        """The local session a transactionId of this box names (it begins with its id)."""
        number, _, _ = transaction.partition("-")
        return int(number) if number.isdigit() else None

    # --- charging state ------------------------------------------------------------------

    def observe(self) -> None:
        """After every control step: a new charging state of the running transaction is an
        Updated event of its own."""
        session = self._current_session()
        if session is None:
            return
        state = charging_state(self._connector_status())
        if self._state == (session.id, state):
            return
        if self._state is None or self._state[0] != session.id:
            self._state = (session.id, state)  # resumed after a restart: Started said it
            return
        self._state = (session.id, state)
        self._updated(session, "ChargingStateChanged", None, state)

    # --- the events ----------------------------------------------------------------------

    def _updated(
        self,
        session: Session,
        trigger: str,
        value: MeterValue | None,
        state: str | None = None,
    ) -> None:
        info: dict[str, Any] = {"transactionId": transaction_id(session)}
        if state is not None:
            info["chargingState"] = state
        event = {
            "eventType": "Updated",
            "timestamp": iso_utc(self._clock.now()),
            "triggerReason": trigger,
            "transactionInfo": info,
        }
        self._put(session, event, [value] if value is not None else [])

    def _token(self, session: Session, id_tag: str) -> dict[str, str]:
        token_type = self._token_types.get(session.id)
        return id_token(id_tag) if token_type is None else id_token(id_tag, token_type)

    def _put(self, session: Session, event: dict[str, Any], values: list[MeterValue]) -> None:
        converted = [v for v in map(meter_value, values) if v is not None]
        if converted:
            event["meterValue"] = converted
        if not self._online():
            event["offline"] = True
        with self._store.atomic():
            event["seqNo"] = self._next_seq(session.id)
            self._outbox.put_transaction("TransactionEvent", event, session.id)

    def _next_seq(self, session_id: int) -> int:
        stored = self._store.get_setting(SEQUENCE_KEY)
        known = json.loads(stored) if stored else {}
        seq = known.get("next", 0) if known.get("session") == session_id else 0
        self._store.set_setting(SEQUENCE_KEY, json.dumps({"session": session_id, "next": seq + 1}))
        return seq
