"""StatusNotification in 2.0.1: one per connector of an EVSE, five statuses, no error codes.

The box has one EVSE with one connector. What 1.6 reports on connector 0 (the box faulted or
unavailable) is folded into that connector, since 2.0.1 has no station-level status; 1.6's
session statuses (Preparing, Charging, SuspendedEV/EVSE, Finishing) are all Occupied. Why a
connector is Faulted travels in NotifyEvent, not here.
"""

from __future__ import annotations

from typing import Any

from pievse.firmware.clock import iso_utc
from pievse.firmware.control.connector_status import ConnectorState, ConnectorStatus
from pievse.firmware.csms.status_reporter import Observed

EVSE_ID = 1
CONNECTOR_ID = 1
CONNECTORS = (CONNECTOR_ID,)
STATUSES = {
    ConnectorState.AVAILABLE: "Available",
    ConnectorState.RESERVED: "Reserved",
    ConnectorState.UNAVAILABLE: "Unavailable",
    ConnectorState.FAULTED: "Faulted",
}
"""The domain's states 2.0.1 names; every other one is a session's: Occupied."""


def connector_status(box: ConnectorStatus, connector: ConnectorStatus) -> str:
    """The 2.0.1 ConnectorStatus of the box's one connector."""
    if ConnectorState.FAULTED in (box.status, connector.status):
        return "Faulted"
    if box.status == ConnectorState.UNAVAILABLE and connector.status == ConnectorState.AVAILABLE:
        return "Unavailable"
    return STATUSES.get(connector.status, "Occupied")


def notification(connector_id: int, seen: Observed) -> dict[str, Any]:
    return {
        "timestamp": iso_utc(seen.since),
        "connectorStatus": seen.status,
        "evseId": EVSE_ID,
        "connectorId": connector_id,
    }
