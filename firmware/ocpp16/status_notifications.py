"""The 1.6 StatusNotification: connector 0 (the box) and connector 1, with the error code
and, for what 1.6 has no code for, the vendor's."""

from __future__ import annotations

from typing import Any

from pievse.firmware.clock import iso_utc
from pievse.firmware.control.connector_status import ConnectorState, ConnectorStatus
from pievse.firmware.control.faults import ErrorCode
from pievse.firmware.csms.data_transfer import VENDOR_ID
from pievse.firmware.csms.status_reporter import Observed

CONNECTORS = (0, 1)
STATUSES = {
    ConnectorState.AVAILABLE: "Available",
    ConnectorState.PREPARING: "Preparing",
    ConnectorState.CHARGING: "Charging",
    ConnectorState.SUSPENDED_EV: "SuspendedEV",
    ConnectorState.SUSPENDED_EVSE: "SuspendedEVSE",
    ConnectorState.FINISHING: "Finishing",
    ConnectorState.RESERVED: "Reserved",
    ConnectorState.UNAVAILABLE: "Unavailable",
    ConnectorState.FAULTED: "Faulted",
}
"""The domain's connector state -> ChargePointStatus."""
ERROR_CODES = {
    ErrorCode.NO_ERROR: "NoError",
    ErrorCode.GROUND_FAILURE: "GroundFailure",
    ErrorCode.HIGH_TEMPERATURE: "HighTemperature",
    ErrorCode.POWER_METER_FAILURE: "PowerMeterFailure",
    ErrorCode.POWER_SWITCH_FAILURE: "PowerSwitchFailure",
    ErrorCode.EV_COMMUNICATION_ERROR: "EVCommunicationError",
    ErrorCode.OVER_CURRENT_FAILURE: "OverCurrentFailure",
    ErrorCode.CONNECTOR_LOCK_FAILURE: "ConnectorLockFailure",
    ErrorCode.READER_FAILURE: "ReaderFailure",
    ErrorCode.INTERNAL_ERROR: "InternalError",
    ErrorCode.OTHER_ERROR: "OtherError",
}
"""The domain's error code -> ChargePointErrorCode."""


def notification(connector_id: int, seen: Observed) -> dict[str, Any]:
    status = seen.status
    assert isinstance(status, ConnectorStatus)
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "errorCode": ERROR_CODES[status.error_code],
        "status": STATUSES[status.status],
        "timestamp": iso_utc(seen.since),
    }
    if status.vendor_error_code:
        payload["vendorId"] = VENDOR_ID
        payload["vendorErrorCode"] = status.vendor_error_code
    return payload
