"""A real 2.0.1 CSMS for the tests: the `ocpp` library's 2.0.1 central-system side.

Every CALL the charge point sends is checked against the official 2.0.1 schemas on the way
in (a violation makes the library answer a CALLERROR, recorded in `protocol_errors`), and
every answer to this CSMS's own requests on the way back (`call` fails the test on one).
"""

from __future__ import annotations

import itertools
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection

from tests.rigs.csms import Received, Recording, TestCsms, now_iso


class CentralSystem201Side(Recording, ChargePoint):
    def __init__(self, cp_id: str, connection: ServerConnection, csms: TestCsms201) -> None:
        super().__init__(cp_id, connection, response_timeout=5)
        self.csms = csms

    @on(Action.boot_notification)
    def on_boot(self, **payload: Any) -> Any:
        self._record("BootNotification", payload)
        script = self.csms.script
        status, interval = script.next_boot(payload["charging_station"].get("firmware_version"))
        return call_result.BootNotification(
            current_time=now_iso(script.time_offset), interval=interval, status=status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        self._record("Heartbeat", {})
        return call_result.Heartbeat(current_time=now_iso(self.csms.script.time_offset))

    @on(Action.status_notification)
    def on_status(self, **payload: Any) -> Any:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **payload: Any) -> Any:
        self._record("Authorize", {"id_token": id_token, **payload})
        status = self.csms.tag_status(id_token["id_token"])
        return call_result.Authorize(id_token_info={"status": status})

    @on(Action.transaction_event)
    def on_transaction_event(self, **payload: Any) -> Any:
        self.csms.received.append(Received("TransactionEvent", payload, charge_point=self.id))
        token = payload.get("id_token")
        if token is None:
            return call_result.TransactionEvent()
        status = self.csms.tag_status(token["id_token"])
        if payload["event_type"] == "Started" and self.csms.script.start_status is not None:
            status = self.csms.script.start_status
        return call_result.TransactionEvent(id_token_info={"status": status})

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.notify_report)
    def on_notify_report(self, **payload: Any) -> Any:
        self._record("NotifyReport", payload)
        return call_result.NotifyReport()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, **payload: Any) -> Any:
        self._record("ReportChargingProfiles", payload)
        return call_result.ReportChargingProfiles()

    @on(Action.reservation_status_update)
    def on_reservation_status_update(self, **payload: Any) -> Any:
        self._record("ReservationStatusUpdate", payload)
        return call_result.ReservationStatusUpdate()

    @on(Action.notify_customer_information)
    def on_notify_customer_information(self, **payload: Any) -> Any:
        self._record("NotifyCustomerInformation", payload)
        return call_result.NotifyCustomerInformation()

    @on(Action.notify_monitoring_report)
    def on_notify_monitoring_report(self, **payload: Any) -> Any:
        self._record("NotifyMonitoringReport", payload)
        return call_result.NotifyMonitoringReport()

    @on(Action.notify_charging_limit)
    def on_notify_charging_limit(self, **payload: Any) -> Any:
        self._record("NotifyChargingLimit", payload)
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    def on_cleared_charging_limit(self, **payload: Any) -> Any:
        self._record("ClearedChargingLimit", payload)
        return call_result.ClearedChargingLimit()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr: str, **payload: Any) -> Any:
        self._record("SignCertificate", {"csr": csr, **payload})
        return call_result.SignCertificate(status="Accepted")

    @on(Action.notify_event)
    def on_notify_event(self, **payload: Any) -> Any:
        self._record("NotifyEvent", payload)
        return call_result.NotifyEvent()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **payload: Any) -> Any:
        self._record("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **payload: Any) -> Any:
        self._record("LogStatusNotification", payload)
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event(self, **payload: Any) -> Any:
        self._record("SecurityEventNotification", payload)
        return call_result.SecurityEventNotification()


def charging_profile(
    profile_id: int,
    purpose: str = "TxDefaultProfile",
    limit: float = 16.0,
    stack_level: int = 0,
    schedules: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """A SetChargingProfile chargingProfile of `limit` A from the start, `schedules` times."""
    return {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative" if purpose == "TxProfile" else "Absolute",
        "chargingSchedule": [
            {
                "id": profile_id * 10 + n,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
            for n in range(schedules)
        ],
        **extra,
    }


def network_profile(url: str, security_profile: int = 0, **extra: Any) -> dict[str, Any]:
    """SetNetworkProfile's connectionData for a 2.0.1 CSMS at `url`."""
    return {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": 5,
        "securityProfile": security_profile,
        "ocppInterface": "Wired0",
        **extra,
    }


class TestCsms201(TestCsms):
    __test__ = False
    SUBPROTOCOL = "ocpp2.0.1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_start_ids = itertools.count(1)

    def side_for(self, charge_point_id: str, connection: ServerConnection) -> Recording:
        return CentralSystem201Side(charge_point_id, connection, self)

    def statuses(self, connector_id: int, since: int = 0) -> list[str]:
        return [
            p["connector_status"]
            for p in self.of("StatusNotification", since)
            if p["connector_id"] == connector_id
        ]

    async def wait_status(
        self, connector_id: int, status: str, since: int = 0, timeout: float = 5.0
    ) -> dict[str, Any]:
        return await self.wait_for(
            "StatusNotification",
            lambda p: p["connector_id"] == connector_id and p["connector_status"] == status,
            timeout,
            since,
        )

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        return self.of("TransactionEvent", since)

    async def set_variable(self, component: dict[str, Any], name: str, value: str) -> str:
        """One SetVariables entry: its attributeStatus."""
        entry = {"component": component, "variable": {"name": name}, "attributeValue": value}
        answer = await self.call(call.SetVariables(set_variable_data=[entry]))
        return str(answer.set_variable_result[0]["attribute_status"])

    async def get_variable(
        self, component: dict[str, Any], name: str, **variable: str
    ) -> str | None:
        """One GetVariables entry: its attributeValue, None without one."""
        wanted = {"component": component, "variable": {"name": name, **variable}}
        answer = await self.call(call.GetVariables(get_variable_data=[wanted]))
        return answer.get_variable_result[0].get("attribute_value")

    async def set_charging_profile(self, evse_id: int, body: dict[str, Any]) -> str:
        answer = await self.call(call.SetChargingProfile(evse_id=evse_id, charging_profile=body))
        return str(answer.status)

    async def set_network_profile(self, slot: int, data: dict[str, Any]) -> str:
        answer = await self.call(
            call.SetNetworkProfile(configuration_slot=slot, connection_data=data)
        )
        return str(answer.status)

    async def wait_event(
        self, event_type: str, trigger: str | None = None, since: int = 0, timeout: float = 5.0
    ) -> dict[str, Any]:
        return await self.wait_for(
            "TransactionEvent",
            lambda p: p["event_type"] == event_type and trigger in (None, p["trigger_reason"]),
            timeout,
            since,
        )
