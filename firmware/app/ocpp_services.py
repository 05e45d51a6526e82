"""Everything OCPP 1.6 adds to a standalone box, built complete in one place, and what the
2.0.1 front (`ocpp201_services`) builds the same way.

`build_ocpp_services` runs once, after the controller, when a CSMS is configured; a box
without one has no `OcppServices` at all. Each part is built whole, in dependency order:
security, the CSMS session, the reporters, the background jobs, the profile handlers and last
the link that serves them. What the services subscribe to on the controller (session and step
listeners, the charging-profile limit) is the controller's published extension point.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pievse.firmware.app.run_options import firmware_version
from pievse.firmware.clock import Clock
from pievse.firmware.config import Config, ConfigError
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.link import CsmsLink, LinkSettings
from pievse.firmware.csms.meter_values import Reading
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.diagnostics.diagnostics_upload import DiagnosticsUploads
from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.ocpp16.authorize import ask_csms
from pievse.firmware.ocpp16.identity import boot_payload
from pievse.firmware.ocpp16.profile_store import ProfileStore
from pievse.firmware.ocpp16.profiles.core import CoreProfile
from pievse.firmware.ocpp16.profiles.firmware_management import FirmwareProfile
from pievse.firmware.ocpp16.profiles.local_auth_list import LocalAuthListProfile
from pievse.firmware.ocpp16.profiles.remote_trigger import RemoteTriggerProfile
from pievse.firmware.ocpp16.profiles.reservation import ReservationProfile
from pievse.firmware.ocpp16.profiles.security import SecurityExtensionProfile
from pievse.firmware.ocpp16.profiles.smart_charging import SmartChargingProfile
from pievse.firmware.ocpp16.smart_charging import SmartCharging
from pievse.firmware.ocpp16.status_notifications import CONNECTORS, VENDOR_ID, notification
from pievse.firmware.ocpp16.transaction_messages import TransactionMessages
from pievse.firmware.persistence.store import Store
from pievse.firmware.rpc.dialects import OCPP16, Dialect
from pievse.firmware.security.certificate_store import CertificateStore
from pievse.firmware.security.connection_security import ConnectionSecurity, SecurityConfigError
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.id_tag_store import IdTagStore
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.updates.firmware_updates import FINAL, FirmwareUpdates
from pievse.firmware.updates.releases import Releases
from pievse.hal.interfaces import Board

log = logging.getLogger(__name__)
Restart = Callable[[str, str | None], Awaitable[None]]


@dataclass(frozen=True)
class BoxParts:
    """The standalone box the OCPP services plug into."""

    config: Config
    clock: Clock
    board: Board
    store: Store
    keys: ConfigurationKeys
    session_log: SessionLog
    reservations: ReservationBook
    controller: ChargeController
    certificates: CertificateStore
    security_log: SecurityLog
    diagnostics: DiagnosticsLog
    releases: Releases
    data_dir: Path
    identity: dict[str, Any]
    """vendor, model, serial, firmware, meter_type, meter_serial."""
    restart: Restart
    """(kind, reason): Soft, Hard or Firmware."""
    status: Callable[[], dict[str, Any]]
    """The `/api/status` document."""
    availability: Availability
    restarted_for: str | None = None
    """The restart (Soft, Hard, Firmware) the box was told to make before this start."""


@dataclass(frozen=True)
class Jobs:
    """The background jobs a CSMS request starts (firmware, diagnostics, log uploads)."""

    firmware: FirmwareUpdates
    diagnostics_uploads: DiagnosticsUploads
    log_uploads: LogUploads


@dataclass(frozen=True)
class OcppServices:
    security: ConnectionSecurity
    csms: CsmsSession
    outbox: Outbox
    authorizer: Authorizer
    transactions: TransactionReporter
    statuses: StatusReporter
    smart: SmartCharging
    jobs: Jobs
    link: CsmsLink

    def tasks(self) -> dict[str, Coroutine[Any, Any, None]]:
        """Task name -> what runs for as long as the box does."""
        return {
            "csms-link": self.link.run(),
            "status-notifications": self.statuses.run(),
            "aligned-values": self.transactions.run_clock_aligned(),
            "charging-profiles": self.smart.run(),
        }

    async def stop_jobs(self) -> None:
        jobs = self.jobs
        for job in (jobs.log_uploads, jobs.firmware, jobs.diagnostics_uploads):
            await job.stop()


def build_ocpp_services(parts: BoxParts, outbox: Outbox) -> OcppServices:
    config, controller, keys, clock = parts.config, parts.controller, parts.keys, parts.clock
    csms = CsmsSession(
        boot_payload(parts.identity),
        keys,
        clock,
        on_clock_set=[lambda skew: record_clock_set(parts.security_log, skew)],
    )
    security = connection_security(parts, csms.reconnect)
    tags = IdTagStore(parts.store)
    authorizer = Authorizer(csms, ask_csms, tags, keys, clock)
    messages = TransactionMessages(
        outbox,
        parts.session_log,
        controller.sessions.deauthorize,
        id_tag_listeners=[authorizer.learn],
    )
    transactions = TransactionReporter(
        messages, parts.session_log, keys, clock, lambda: reading(parts)
    )
    statuses = StatusReporter(
        CONNECTORS,
        lambda: {0: controller.box_status(), 1: controller.connector_status()},
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
    link = CsmsLink(
        link_settings(config),
        csms,
        keys,
        outbox,
        profiles,
        security,
        on_accepted=[statuses.resync, jobs.firmware.registered],
        on_invalid_message=lambda text: parts.security_log.record("InvalidMessages", text),
    )
    return OcppServices(
        security, csms, outbox, authorizer, transactions, statuses, smart, jobs, link
    )


def link_settings(config: Config, dialect: Dialect = OCPP16) -> LinkSettings:
    ocpp = config.ocpp
    return LinkSettings(
        ocpp.csms_url,
        config.charge_point.id,
        ocpp.response_timeout_s,
        ocpp.reconnect_min_s,
        ocpp.reconnect_max_s,
        dialect,
    )


def record_clock_set(security_log: SecurityLog, skew: float) -> None:
    security_log.record("SettingSystemTime", f"clock set from the CSMS, it was {skew:+.1f} s off")


def connection_security(parts: BoxParts, reconnect: Callable[[], None]) -> ConnectionSecurity:
    """The Security Whitepaper profile in force, checked before anything connects."""
    config = parts.config
    security = ConnectionSecurity(
        parts.store,
        parts.keys,
        parts.certificates,
        parts.security_log,
        config.charge_point.id,
        config.ocpp.csms_url,
        config.security.csms_url_tls,
        config.security.upgrade_attempts,
        reconnect,
    )
    security.adopt_config(
        config.security.effective_profile(config.ocpp.csms_url),
        config.security.authorization_key,
    )
    try:
        security.check_startup()
    except SecurityConfigError as exc:
        raise ConfigError(str(exc)) from None
    if config.security.profile < 0 and security.credentials.profile == 0:
        log.warning(
            "no AuthorizationKey for %s: security profile 0, the CSMS cannot tell this box "
            "from another; set [security] authorization_key",
            config.ocpp.csms_url,
        )
    return security


FirmwareStatus = Callable[[str, bool, int | None], None]
"""(status, signed, requestId) -> the version's firmware status notification queued."""


def _firmware_status(outbox: Outbox) -> FirmwareStatus:
    def firmware_status(status: str, signed: bool, request_id: int | None) -> None:
        """Final states are durable: the result of an update must reach the CSMS."""
        payload = status_payload(status, request_id if signed else None)
        action = "SignedFirmwareStatusNotification" if signed else "FirmwareStatusNotification"
        (outbox.put_durable if status in FINAL else outbox.put)(action, payload)

    return firmware_status


def background_jobs(parts: BoxParts, outbox: Outbox, firmware_status: FirmwareStatus) -> Jobs:
    config, clock, controller = parts.config, parts.clock, parts.controller

    async def log_status(status: str, request_id: int | None) -> None:
        outbox.put("LogStatusNotification", status_payload(status, request_id))

    async def restart_into_release(reason: str) -> None:
        await parts.restart("Firmware", reason)

    firmware = FirmwareUpdates(
        parts.releases,
        parts.data_dir,
        parts.certificates,
        parts.security_log,
        clock,
        firmware_version(),
        config.firmware.verify_timeout_s,
        config.firmware.max_bundle_mb * 1_000_000,
        firmware_status,
        lambda: controller.session is None,
        restart_into_release,
    )
    diagnostics = DiagnosticsUploads(
        parts.diagnostics,
        lambda: _diagnostics_state(parts),
        clock,
        config.charge_point.id,
        lambda status: outbox.put("DiagnosticsStatusNotification", {"status": status}),
    )
    uploads = LogUploads(
        parts.diagnostics, parts.security_log, clock, config.charge_point.id, log_status
    )
    return Jobs(firmware, diagnostics, uploads)


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
        csms,
        keys,
        parts.certificates,
        security,
        parts.security_log,
        jobs.log_uploads,
        config.charge_point.id,
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
        ReservationProfile(parts.reservations, controller, keys, parts.clock),
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
    def vendor_status(message_id: str | None, _data: str | None) -> tuple[str, str | None]:
        """Vendor "pievse", messageId "Status": the local API's status document."""
        if message_id != "Status":
            return "UnknownMessageId", None
        return "Accepted", json.dumps(parts.status())

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
        vendors={VENDOR_ID: vendor_status},
    )


def reading(parts: BoxParts) -> Reading:
    ratings = parts.board.ratings
    controller = parts.controller
    return Reading(
        controller.measurements,
        controller.offered_a,
        controller.phases.in_use,
        ratings.nominal_voltage_v,
        controller.temperatures_c,
        controller.ev_soc_percent,
    )


def _diagnostics_state(parts: BoxParts) -> dict[str, Any]:
    """What GetDiagnostics uploads besides the log; nothing write-only in it."""
    configuration, _ = parts.keys.get_configuration(None)
    releases = parts.releases
    return {
        "status": parts.status(),
        "configuration": configuration,
        "sessions": [asdict(session) for session in parts.session_log.recent(100)],
        "security_log": [event.line() for event in parts.security_log.events()],
        "releases": {"current": releases.current(), "previous": releases.previous()},
    }


def status_payload(status: str, request_id: int | None) -> dict[str, Any]:
    """A status notification, with the requestId of the request it reports on, if any."""
    payload: dict[str, Any] = {"status": status}
    if request_id is not None:
        payload["requestId"] = request_id
    return payload
