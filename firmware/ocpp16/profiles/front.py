"""The OCPP 1.6J front (with the Security Whitepaper) over the shared core: its dialect,
BootNotification, Authorize, StartTransaction/MeterValues/StopTransaction, the two
connectors' StatusNotification, the firmware, diagnostics and log notifications, and one
handler per feature profile (`Front` in `front.contract`)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.status_reporter import Observed
from pievse.firmware.front.contract import (
    Box,
    Core,
    Identity,
    JobReports,
    Served,
    Transactions,
    status_payload,
)
from pievse.firmware.ocpp16 import authorize, identity, status_notifications
from pievse.firmware.ocpp16.profiles.core import CoreProfile
from pievse.firmware.ocpp16.profiles.firmware_management import FirmwareProfile
from pievse.firmware.ocpp16.profiles.local_auth_list import LocalAuthListProfile
from pievse.firmware.ocpp16.profiles.remote_trigger import RemoteTriggerProfile
from pievse.firmware.ocpp16.profiles.reservation import ReservationProfile
from pievse.firmware.ocpp16.profiles.security import SecurityExtensionProfile
from pievse.firmware.ocpp16.profiles.smart_charging import SmartChargingProfile
from pievse.firmware.ocpp16.transaction_messages import TransactionMessages
from pievse.firmware.rpc.dialects import OCPP16
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.updates.firmware_updates import FINAL


class Ocpp16Front:
    """One per box; `transactions` keeps the messages its profiles answer through."""

    dialect = OCPP16
    connectors = status_notifications.CONNECTORS

    def __init__(self) -> None:
        self._messages: TransactionMessages | None = None

    def boot_payload(self, who: Identity, restarted_for: str | None) -> dict[str, Any]:
        """1.6 names no reason for a start."""
        return identity.boot_payload(who)

    async def ask_csms(self, csms: CsmsSession, id_tag: str) -> IdTagInfo:
        return await authorize.ask_csms(csms, id_tag)

    def transactions(
        self, box: Box, csms: CsmsSession, authorizer: Authorizer, refused: Callable[[int], None]
    ) -> Transactions:
        self._messages = TransactionMessages(
            box.outbox, box.session_log, refused, id_tag_listeners=[authorizer.learn]
        )
        return Transactions(wire=self._messages)

    def statuses(self, box: ConnectorStatus, connector: ConnectorStatus) -> dict[int, Hashable]:
        """Connector 0 is the box, connector 1 its one outlet."""
        return {0: box, 1: connector}

    def render_status(self, connector_id: int, seen: Observed) -> dict[str, Any]:
        return status_notifications.notification(connector_id, seen)

    def job_reports(self, outbox: Outbox) -> JobReports:
        def firmware(status: str, signed: bool, request_id: int | None) -> None:
            payload = status_payload(status, request_id if signed else None)
            action = "SignedFirmwareStatusNotification" if signed else "FirmwareStatusNotification"
            (outbox.put_durable if status in FINAL else outbox.put)(action, payload)

        def diagnostics(status: str) -> None:
            outbox.put("DiagnosticsStatusNotification", {"status": status})

        def log(status: str, request_id: int | None) -> None:
            outbox.put("LogStatusNotification", status_payload(status, request_id))

        return JobReports(firmware=firmware, diagnostics=diagnostics, log=log)

    def serve(self, box: Box, core: Core) -> Served:
        """One handler per feature profile, in the order the link dispatches to them."""
        assert self._messages is not None, "transactions() comes before serve()"
        jobs, settings = core.jobs, box.settings
        extension = SecurityExtensionProfile(core.certificate_requests, jobs.log_uploads)
        return Served(
            handlers=[
                CoreProfile(
                    box.controller,
                    box.keys,
                    core.authorizer,
                    self._messages,
                    box.outbox,
                    box.availability,
                    box.reset,
                    core.smart,
                    core.data_transfers,
                ),
                _remote_trigger(core, self._messages, extension),
                extension,
                FirmwareProfile(
                    jobs.firmware,
                    jobs.diagnostics_uploads,
                    settings.firmware_retries,
                    settings.firmware_retry_interval_s,
                ),
                SmartChargingProfile(core.smart),
                LocalAuthListProfile(core.tags, box.keys),
                ReservationProfile(box.reservations, box.controller, box.keys),
            ]
        )


def _remote_trigger(
    core: Core, messages: TransactionMessages, extension: SecurityExtensionProfile
) -> RemoteTriggerProfile:
    """TriggerMessage's basic messages come from the core; ExtendedTriggerMessage's from the
    jobs and the certificate requests; the job statuses as they stand now."""
    firmware, diagnostics = core.jobs.firmware, core.jobs.diagnostics_uploads

    async def signed_firmware_status() -> None:
        payload = status_payload(
            firmware.current_status(signed_form=True),
            firmware.request_id if firmware.signed else None,
        )
        await core.csms.request("SignedFirmwareStatusNotification", payload)

    return RemoteTriggerProfile(
        core.csms,
        core.statuses,
        core.transactions,
        messages,
        extended={
            "LogStatusNotification": core.jobs.log_uploads.notify_current,
            "SignChargePointCertificate": extension.request_signing,
            "FirmwareStatusNotification": signed_firmware_status,
        },
        current={
            "FirmwareStatusNotification": lambda: {
                "status": firmware.current_status(signed_form=False)
            },
            "DiagnosticsStatusNotification": lambda: {"status": diagnostics.status},
        },
    )
