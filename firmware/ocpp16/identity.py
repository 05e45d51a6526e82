"""BootNotification as OCPP 1.6 says who the box is."""

from __future__ import annotations

from typing import Any

from pievse.firmware.front.contract import Identity


def boot_payload(identity: Identity) -> dict[str, Any]:
    """From the neutral identity the box keeps; empty fields are left out."""
    payload = {
        "chargePointVendor": identity.vendor,
        "chargePointModel": identity.model,
        "chargePointSerialNumber": identity.serial,
        "chargeBoxSerialNumber": identity.serial,
        "firmwareVersion": identity.firmware,
        "meterType": identity.meter_type,
        "meterSerialNumber": identity.meter_serial,
    }
    return {k: v for k, v in payload.items() if v}
