"""BootNotification as OCPP 1.6 says who the box is."""

from __future__ import annotations

from typing import Any


def boot_payload(identity: dict[str, Any]) -> dict[str, Any]:
    """From the neutral identity the box keeps (vendor, model, serial, firmware, meter)."""
    serial = identity.get("serial")
    payload = {
        "chargePointVendor": identity["vendor"],
        "chargePointModel": identity["model"],
        "chargePointSerialNumber": serial,
        "chargeBoxSerialNumber": serial,
        "firmwareVersion": identity.get("firmware"),
        "meterType": identity.get("meter_type"),
        "meterSerialNumber": identity.get("meter_serial"),
    }
    return {k: v for k, v in payload.items() if v}
