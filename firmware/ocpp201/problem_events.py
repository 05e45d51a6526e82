"""What is wrong, told as 2.0.1 tells it: StatusNotification has no error codes, so a fault
the control loop reports (1.6's errorCode and vendorErrorCode) becomes a NotifyEvent of the
component's Problem variable (HardWiredNotification, trigger Delta): "true" with the code
when it appears, "false" and cleared when it is gone.

The station stands for 1.6's connector 0 (the box: tamper, RCD, internal errors), the
connector for connector 1. After every (re)registration the problems there are now are
reported again, as the statuses are: the CSMS may have missed them while the link was down.
Event ids are shared with the custom monitors' events (`EventIds`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.control.faults import ErrorCode
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.event_ids import EventIds
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID

NO_PROBLEM = ErrorCode.NO_ERROR
PLACES: dict[str, dict[str, Any]] = {
    "station": {"name": "ChargingStation"},
    "connector": {"name": "Connector", "evse": {"id": EVSE_ID, "connectorId": CONNECTOR_ID}},
}


class ProblemEvents:
    def __init__(
        self,
        outbox: Outbox,
        event_ids: EventIds,
        clock: Clock,
        statuses: Callable[[], dict[str, ConnectorStatus]],
        transaction_id: Callable[[], str | None],
        accepted: Callable[[], bool],
    ) -> None:
        """`statuses`: "station" and "connector" -> what the control loop reports now."""
        self._outbox = outbox
        self._event_ids = event_ids
        self._clock = clock
        self._statuses = statuses
        self._transaction_id = transaction_id
        self._accepted = accepted
        self._reported = dict.fromkeys(PLACES, NO_PROBLEM)

    def resync(self) -> None:
        self._reported = dict.fromkeys(PLACES, NO_PROBLEM)
        self.observe()

    def observe(self) -> None:
        """After every control step; cheap when nothing changed."""
        if not self._accepted():
            return
        for place, status in self._statuses().items():
            code = status.error_code
            if code == self._reported[place]:
                continue
            self._reported[place] = code
            self._outbox.put("NotifyEvent", self._event(place, status))

    def _event(self, place: str, status: ConnectorStatus) -> dict[str, Any]:
        problem = status.error_code != NO_PROBLEM
        data: dict[str, Any] = {
            "eventId": self._event_ids.next(),
            "timestamp": iso_utc(self._clock.now()),
            "trigger": "Delta",
            "actualValue": "true" if problem else "false",
            "eventNotificationType": "HardWiredNotification",
            "component": PLACES[place],
            "variable": {"name": "Problem"},
        }
        if problem:
            data["techCode"] = status.error_code.value  # 2.0.1 leaves the code to the box
            if status.vendor_error_code:
                data["techInfo"] = status.vendor_error_code
        else:
            data["cleared"] = True
        transaction = self._transaction_id() if place == "connector" else None
        if transaction is not None:
            data["transactionId"] = transaction
        return {"generatedAt": data["timestamp"], "seqNo": 0, "eventData": [data]}
