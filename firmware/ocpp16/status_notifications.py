"""The 1.6 StatusNotification: connector 0 (the box) and connector 1, with the error code
and, for what 1.6 has no code for, the vendor's."""

from __future__ import annotations

from typing import Any

from pievse.firmware.clock import iso_utc
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.csms.data_transfer import VENDOR_ID
from pievse.firmware.csms.status_reporter import Observed

CONNECTORS = (0, 1)


def notification(connector_id: int, seen: Observed) -> dict[str, Any]:
    status = seen.status
    assert isinstance(status, ConnectorStatus)
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "errorCode": status.error_code,
        "status": status.status,
        "timestamp": iso_utc(seen.since),
    }
    if status.vendor_error_code:
        payload["vendorId"] = VENDOR_ID
        payload["vendorErrorCode"] = status.vendor_error_code
    return payload
