"""What the OCPP core is built from: the standalone box's parts, and the pieces that are
the same for every front (connection security, the link, the background jobs, DataTransfer,
the meter reading the reporters take, the reaction to a refused token)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pievse.firmware.app.run_options import firmware_version
from pievse.firmware.clock import Clock
from pievse.firmware.config import AUTO, Config, ConfigError
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.connection_security import ConnectionSecurity, SecurityConfigError
from pievse.firmware.csms.data_transfer import VENDOR_ID, DataTransfers
from pievse.firmware.csms.invalid_id import InvalidIdReaction
from pievse.firmware.csms.link import CsmsLink, LinkSettings
from pievse.firmware.csms.meter_values import Reading
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.diagnostics.diagnostics_upload import DiagnosticsUploads
from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.front.contract import Box, Core, FrontSettings, Identity, JobReports, Jobs
from pievse.firmware.persistence.store import Store
from pievse.firmware.rpc.dialects import DIALECTS, Dialect
from pievse.firmware.rpc.traffic import NO_TRAFFIC, TrafficObserver
from pievse.firmware.security.certificate_store import CertificateStore
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.transfer.destinations import DestinationGuard
from pievse.firmware.transfer.file_transfer import FileTransfers
from pievse.firmware.updates.firmware_updates import FirmwareUpdates
from pievse.firmware.updates.releases import Releases
from pievse.firmware.updates.update_job import UpdateLimits
from pievse.hal.interfaces import Board

log = logging.getLogger(__name__)
Restart = Callable[[str, str | None], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
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
    outbox: Outbox
    certificates: CertificateStore
    security_log: SecurityLog
    diagnostics: DiagnosticsLog
    releases: Releases
    data_dir: Path
    identity: Identity
    restart: Restart
    """(kind, reason): Soft, Hard or Firmware."""
    status: Callable[[], dict[str, Any]]
    """The `/api/status` document."""
    availability: Availability
    restarted_for: str | None = None
    """The restart (Soft, Hard, Firmware) the box was told to make before this start."""
    switch_version: Callable[[str], None] = lambda _version: None
    """With `[ocpp] version = "auto"`: the CSMS chose this version instead of the box's."""
    traffic: TrafficObserver = NO_TRAFFIC
    """Told of every request, CALL and connection (a fleet's load report)."""
    api_port: Callable[[], int | None] = lambda: None
    """The port the local API listens on, once it does: no transfer may go there."""


def box_identity(config: Config, board: Board) -> Identity:
    """Who the box is, within 1.6's lengths (which 2.0.1's exceed)."""
    cp = config.charge_point
    return Identity(
        vendor=cp.vendor,
        model=(cp.model or board.name)[:20],
        serial=(cp.serial or cp.id)[:25],
        firmware=firmware_version(),
        meter_type=board.meter_model.upper()[:25],
        meter_serial=cp.meter_serial,
    )


def csms_link(
    parts: BoxParts,
    dialect: Dialect,
    core: Core,
    handlers: list[object],
    on_accepted: Sequence[Callable[[], None]] = (),
) -> CsmsLink:
    """The link serving a front's handlers: after each registration the statuses go out
    again, a firmware update waiting for the CSMS reports, the database's snapshot from
    before a migration is dropped (this release runs on it), then what the front adds."""
    return CsmsLink(
        _link_settings(parts.config, dialect),
        core.csms,
        parts.keys,
        parts.outbox,
        handlers,
        core.security,
        on_accepted=[
            core.statuses.resync,
            core.jobs.firmware.registered,
            parts.store.discard_snapshot,
            *on_accepted,
        ],
        on_invalid_message=lambda text: parts.security_log.record("InvalidMessages", text),
        on_other_version=parts.switch_version,
        traffic=parts.traffic,
    )


def _link_settings(config: Config, dialect: Dialect) -> LinkSettings:
    ocpp = config.ocpp
    return LinkSettings(
        ocpp.csms_url,
        config.charge_point.id,
        ocpp.response_timeout_s,
        ocpp.reconnect_min_s,
        ocpp.reconnect_max_s,
        dialect,
        tuple(d for d in DIALECTS.values() if d is not dialect) if ocpp.version == AUTO else (),
    )


def record_clock_set(security_log: SecurityLog, skew: float) -> None:
    security_log.record("SettingSystemTime", f"clock set from the CSMS, it was {skew:+.1f} s off")


def box_for(parts: BoxParts) -> Box:
    """What of the box a front stands on."""
    config = parts.config

    async def reset(kind: str) -> None:
        await parts.restart(kind, None)

    return Box(
        controller=parts.controller,
        keys=parts.keys,
        clock=parts.clock,
        store=parts.store,
        outbox=parts.outbox,
        session_log=parts.session_log,
        reservations=parts.reservations,
        availability=parts.availability,
        certificates=parts.certificates,
        security_log=parts.security_log,
        ratings=parts.board.ratings,
        settings=FrontSettings(
            charge_point_id=config.charge_point.id,
            firmware_retries=config.firmware.retries,
            firmware_retry_interval_s=config.firmware.retry_interval_s,
            response_timeout_s=config.ocpp.response_timeout_s,
            reconnect_s=(config.ocpp.reconnect_min_s, config.ocpp.reconnect_max_s),
        ),
        identity=parts.identity,
        restarted_for=parts.restarted_for,
        reset=reset,
        reading=lambda: reading(parts),
    )


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


def file_transfers(parts: BoxParts) -> FileTransfers:
    """Transfers that never reach the box's own API or a link-local address; a refused
    destination is a security event (InvalidMessages: the CSMS named it)."""

    def refused(reason: str) -> None:
        parts.security_log.record("InvalidMessages", reason)

    guard = DestinationGuard(parts.api_port, refused)
    return FileTransfers(guard, parts.config.firmware.download_deadline_s)


def background_jobs(parts: BoxParts, reports: JobReports) -> Jobs:
    """The jobs a CSMS request starts; each tells where it stands in the front's terms."""
    config, clock, controller = parts.config, parts.clock, parts.controller

    async def log_status(status: str, request_id: int | None) -> None:
        reports.log(status, request_id)

    async def restart_into_release(reason: str) -> None:
        await parts.restart("Firmware", reason)

    transfers = file_transfers(parts)
    firmware = FirmwareUpdates(
        parts.releases,
        parts.data_dir,
        parts.certificates,
        parts.security_log,
        clock,
        firmware_version(),
        UpdateLimits(
            config.firmware.max_bundle_mb * 1_000_000,
            config.firmware.verify_timeout_s,
            config.firmware.allow_unsigned,
        ),
        transfers,
        reports.firmware,
        lambda: controller.session is None,
        restart_into_release,
    )
    diagnostics = DiagnosticsUploads(
        parts.diagnostics,
        lambda: _diagnostics_state(parts),
        clock,
        config.charge_point.id,
        reports.diagnostics,
        transfers,
    )
    uploads = LogUploads(
        parts.diagnostics,
        parts.security_log,
        clock,
        config.charge_point.id,
        log_status,
        transfers,
    )
    return Jobs(firmware=firmware, diagnostics_uploads=diagnostics, log_uploads=uploads)


def data_transfers(parts: BoxParts) -> DataTransfers:
    def vendor_status(message_id: str | None, _data: Any) -> tuple[str, Any]:
        """Vendor "pievse", messageId "Status": the local API's status document."""
        if message_id != "Status":
            return "UnknownMessageId", None
        return "Accepted", json.dumps(parts.status())

    return DataTransfers({VENDOR_ID: vendor_status})


def reading(parts: BoxParts) -> Reading:
    ratings = parts.board.ratings
    controller = parts.controller
    return Reading(
        controller.measurements,
        controller.offered_a,
        controller.state.phases.in_use,
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


def invalid_id_reaction(parts: BoxParts) -> InvalidIdReaction:
    """When the CSMS refuses a running session's token: E05's rules, both versions."""
    controller = parts.controller

    def delivered_wh(session_id: int) -> float | None:
        session = controller.session
        if session is None or session.id != session_id:
            return None
        return controller.energy_wh - session.meter_start_wh

    return InvalidIdReaction(parts.keys, controller.sessions.deauthorize, delivered_wh)
