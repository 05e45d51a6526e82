"""Everything OCPP 1.6 adds to a standalone box, built complete in one place, and what the
2.0.1 front (`ocpp201_services`) builds the same way.

`build_ocpp_services` runs once, after the controller, when a CSMS is configured; a box
without one has no `OcppServices` at all. Each part is built whole, in dependency order:
security, the CSMS session, the reporters, the background jobs, the profile handlers and last
the link that serves them. What the services subscribe to on the controller (session and step
listeners, the charging-profile limit) is the controller's published extension point.
"""

from __future__ import annotations

import logging

from pievse.firmware.app.ocpp_parts import (
    BoxParts,
    FirmwareStatus,
    Jobs,
    OcppServices,
    background_jobs,
    certificate_requests,
    connection_security,
    csms_link,
    data_transfers,
    invalid_id_reaction,
    reading,
    record_clock_set,
    status_payload,
)
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.profile_store import ProfileStore
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.ocpp16.authorize import ask_csms
from pievse.firmware.ocpp16.identity import boot_payload
from pievse.firmware.ocpp16.profiles.core import CoreProfile
from pievse.firmware.ocpp16.profiles.firmware_management import FirmwareProfile
from pievse.firmware.ocpp16.profiles.local_auth_list import LocalAuthListProfile
from pievse.firmware.ocpp16.profiles.remote_trigger import RemoteTriggerProfile
from pievse.firmware.ocpp16.profiles.reservation import ReservationProfile
from pievse.firmware.ocpp16.profiles.security import SecurityExtensionProfile
from pievse.firmware.ocpp16.profiles.smart_charging import SmartChargingProfile
from pievse.firmware.ocpp16.status_notifications import CONNECTORS, notification
from pievse.firmware.ocpp16.transaction_messages import TransactionMessages
from pievse.firmware.rpc.dialects import OCPP16
from pievse.firmware.session.id_tag_store import IdTagStore
from pievse.firmware.updates.firmware_updates import FINAL

log = logging.getLogger(__name__)


def build_ocpp_services(parts: BoxParts, outbox: Outbox) -> OcppServices:
    controller, keys, clock = parts.controller, parts.keys, parts.clock
    csms = CsmsSession(
        boot_payload(parts.identity),
        keys,
        clock,
        on_clock_set=[lambda skew: record_clock_set(parts.security_log, skew)],
        on_time_refused=[lambda why: parts.security_log.record("InvalidMessages", why)],
    )
    security = connection_security(parts, csms.reconnect)
    tags = IdTagStore(parts.store)
    authorizer = Authorizer(csms, ask_csms, tags, keys, clock)

    messages = TransactionMessages(
        outbox,
        parts.session_log,
        invalid_id_reaction(parts).refused,
        id_tag_listeners=[authorizer.learn],
    )
    transactions = TransactionReporter(
        messages, parts.session_log, keys, clock, lambda: reading(parts)
    )
    statuses = StatusReporter(
        CONNECTORS,
        lambda: dict(enumerate(controller.statuses())),
        notification,
        outbox,
        lambda: keys.number("MinimumStatusDuration"),
        clock,
        lambda: csms.accepted,
    )
    smart = SmartCharging(
        ProfileStore(parts.store),
        keys,
        clock,
        parts.board.ratings,
        lambda: controller.session,
        messages.transaction_id,
        controller.wake,
        lambda: controller.phases.in_use,
    )
    jobs = background_jobs(parts, outbox, _firmware_status(outbox))
    controller.sessions.listeners.extend([transactions, smart])
    controller.step_listeners.append(statuses.observe)
    controller.limits.register("charging_profile", smart.limit_a)
    profiles = _profiles(
        parts,
        csms,
        outbox,
        security,
        authorizer,
        (transactions, messages),
        statuses,
        smart,
        tags,
        jobs,
    )
    link = csms_link(parts, OCPP16, csms, outbox, profiles, security, statuses, jobs)
    return OcppServices(
        security, csms, outbox, authorizer, transactions, statuses, smart, jobs, link
    )


def _firmware_status(outbox: Outbox) -> FirmwareStatus:
    def firmware_status(status: str, signed: bool, request_id: int | None) -> None:
        """Final states are durable: the result of an update must reach the CSMS."""
        payload = status_payload(status, request_id if signed else None)
        action = "SignedFirmwareStatusNotification" if signed else "FirmwareStatusNotification"
        (outbox.put_durable if status in FINAL else outbox.put)(action, payload)

    return firmware_status


def _profiles(
    parts: BoxParts,
    csms: CsmsSession,
    outbox: Outbox,
    security: ConnectionSecurity,
    authorizer: Authorizer,
    transactions: tuple[TransactionReporter, TransactionMessages],
    statuses: StatusReporter,
    smart: SmartCharging,
    tags: IdTagStore,
    jobs: Jobs,
) -> list[object]:
    """One handler per OCPP feature profile, in the order the link dispatches to them."""
    config, keys, controller = parts.config, parts.keys, parts.controller
    extension = SecurityExtensionProfile(
        certificate_requests(parts, csms, security), jobs.log_uploads
    )

    triggers = _remote_trigger(csms, statuses, transactions, jobs, extension)
    core = _core(parts, outbox, authorizer, transactions[1], smart)
    return [
        core,
        triggers,
        extension,
        FirmwareProfile(
            jobs.firmware,
            jobs.diagnostics_uploads,
            config.firmware.retries,
            config.firmware.retry_interval_s,
        ),
        SmartChargingProfile(smart),
        LocalAuthListProfile(tags, keys),
        ReservationProfile(parts.reservations, controller, keys),
    ]


def _remote_trigger(
    csms: CsmsSession,
    statuses: StatusReporter,
    transactions: tuple[TransactionReporter, TransactionMessages],
    jobs: Jobs,
    extension: SecurityExtensionProfile,
) -> RemoteTriggerProfile:
    firmware, diagnostics = jobs.firmware, jobs.diagnostics_uploads

    async def signed_firmware_status() -> None:
        payload = status_payload(
            firmware.current_status(signed_form=True),
            firmware.request_id if firmware.signed else None,
        )
        await csms.request("SignedFirmwareStatusNotification", payload)

    return RemoteTriggerProfile(
        csms,
        statuses,
        *transactions,
        extended={
            "LogStatusNotification": jobs.log_uploads.notify_current,
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


def _core(
    parts: BoxParts,
    outbox: Outbox,
    authorizer: Authorizer,
    transactions: TransactionMessages,
    smart: SmartCharging,
) -> CoreProfile:
    async def reset(kind: str) -> None:
        await parts.restart(kind, None)

    return CoreProfile(
        parts.controller,
        parts.keys,
        authorizer,
        transactions,
        outbox,
        parts.availability,
        reset,
        smart,
        data_transfers(parts),
    )
