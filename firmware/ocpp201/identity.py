"""Who the box says it is, and who the people charging are, in 2.0.1 terms.

BootNotification names a reason and a chargingStation; an idToken has a type beside its
value and IdTokenInfo replaces 1.6's IdTagInfo. Statuses 2.0.1 added that 1.6 does not know
(NoCredit, NotAtThisLocation, ...) refuse the token just as Invalid does.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.front.contract import Identity
from pievse.firmware.session.id_tag_info import IdTagInfo

TAG_TYPE = "ISO14443"
"""What the box's reader reads: an RFID card's UID."""
KNOWN_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})
RESTART_REASONS = {
    "Hard": "RemoteReset",
    "Soft": "RemoteReset",
    "Firmware": "FirmwareUpdate",
    "VersionSwitch": "LocalReset",
    "SettingsChanged": "LocalReset",
}
"""The restart the box made (kept across it) -> the next boot's reason. A switch of version
under `auto` is LocalReset: the box decided it itself, from its own configuration, once no
session ran; no Reset came from the CSMS (RemoteReset), none was scheduled by one
(ScheduledReset), and nothing failed (ApplicationReset, Watchdog). So is a restart that
applies settings changed over the local API."""


class ReceivedIdToken(TypedDict):
    """An IdTokenType as the ocpp library hands it to a handler: snake_case keys."""

    id_token: str
    type: str
    additional_info: NotRequired[list[dict[str, str]]]


def boot_payload(identity: Identity, reason: str) -> dict[str, Any]:
    """From the neutral identity the box keeps (vendor, model, serial, firmware)."""
    station = {
        "vendorName": identity.vendor,
        "model": identity.model,
        "serialNumber": identity.serial,
        "firmwareVersion": identity.firmware,
    }
    return {
        "reason": reason,
        "chargingStation": {k: v for k, v in station.items() if v},
    }


def id_token(id_tag: str, token_type: str = TAG_TYPE) -> dict[str, str]:
    return {"idToken": id_tag, "type": token_type}


def id_tag_info(info: dict[str, Any]) -> IdTagInfo:
    """From an IdTokenInfo; ValueError if malformed."""
    status = info["status"]
    expiry = info.get("cacheExpiryDateTime")
    group = info.get("groupIdToken")
    return IdTagInfo(
        status if status in KNOWN_STATUSES else "Invalid",
        parse_ocpp_datetime(expiry) if expiry else None,
        group["idToken"] if group else None,
    )
