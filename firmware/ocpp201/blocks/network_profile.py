"""Block B, B09: SetNetworkProfile writes a network connection profile into a slot; the order
in which slots are tried (NetworkConfigurationPriority, B10) is a device model variable.

What the box cannot carry out is Rejected with the reason, before anything is stored: another
OCPP version or SOAP, a VPN or an APN (the box has neither a VPN client nor a modem; it
connects over whatever the OS routes), a URL without a host, a security profile it has no
credentials for or below the one it connects with (A05: no downgrade), the slot in use. An
accepted profile is a change of security parameters, and the security log says so.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.ocpp201.network_profiles import NetworkProfile, NetworkProfiles
from pievse.firmware.rpc.routes import on
from pievse.firmware.security.security_log import SecurityLog

log = logging.getLogger(__name__)
OCPP_VERSION = "OCPP20"
"""2.0.1's name for itself in a network profile."""


def _unsupported(data: dict[str, Any]) -> str | None:
    if data["ocpp_version"] != OCPP_VERSION:
        return f"this box speaks 2.0.1 ({OCPP_VERSION}) on a network profile"
    if data["ocpp_transport"] != "JSON":
        return "only OCPP-J (JSON over WebSocket)"
    if data.get("vpn") is not None:
        return "the box has no VPN client"
    if data.get("apn") is not None:
        return "the box has no cellular modem"
    if data["message_timeout"] <= 0:
        return "messageTimeout must be at least 1 s"
    url = urllib.parse.urlsplit(data["ocpp_csms_url"])
    if not url.hostname:
        return "ocppCsmsUrl names no host"
    return None


class NetworkProfileBlock:
    def __init__(
        self, profiles: NetworkProfiles, security: ConnectionSecurity, events: SecurityLog
    ) -> None:
        self._profiles = profiles
        self._security = security
        self._events = events

    @on(Action.set_network_profile)
    def on_set_network_profile(
        self, configuration_slot: int, connection_data: dict[str, Any], **_: Any
    ) -> Any:
        reason = _unsupported(connection_data)
        profile = NetworkProfile(
            connection_data["ocpp_csms_url"],
            connection_data["security_profile"],
            connection_data["message_timeout"],
            connection_data["ocpp_interface"],
        )
        if reason is None:
            reason = self._security.credentials_refusal(profile.security_profile)
        if reason is None:
            reason = self._profiles.put(configuration_slot, profile)
        if reason is not None:
            log.info("SetNetworkProfile slot %d rejected: %s", configuration_slot, reason)
            return call_result.SetNetworkProfile(
                status="Rejected",
                status_info={"reason_code": "InvalidNetworkConf", "additional_info": reason},
            )
        self._events.record(
            "ReconfigurationOfSecurityParameters",
            f"network profile slot {configuration_slot} set by the CSMS: "
            f"{profile.url}, security profile {profile.security_profile}",
        )
        return call_result.SetNetworkProfile(status="Accepted")
