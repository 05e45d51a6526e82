"""Composition root: the only module that knows boards; it wires devices into the controller."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from aiohttp import web

from pievse.board.assembly import assemble
from pievse.board.loader import load_board
from pievse.firmware.api.local_api import build_app
from pievse.firmware.app.heap_trim import keep_heap_trimmed, trim_heap
from pievse.firmware.app.systemd_notify import SystemdNotifier
from pievse.firmware.clock import Clock, SystemClock
from pievse.firmware.config import (
    Config,
    ConfigError,
    SecurityConfig,
    load_config,
    parse_config,
    parse_listen,
)
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.control.faults import Fault
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.diagnostics.diagnostics_upload import DiagnosticsUploads
from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.ocpp16.authorizer import Authorizer
from pievse.firmware.ocpp16.configuration_keys import PREFIX, ConfigurationKeys
from pievse.firmware.ocpp16.core_keys import core_key_specs
from pievse.firmware.ocpp16.link import CsmsLink, LinkSettings
from pievse.firmware.ocpp16.meter_values import Reading, deliverable_measurands
from pievse.firmware.ocpp16.outbox import Outbox
from pievse.firmware.ocpp16.profile_store import ProfileStore
from pievse.firmware.ocpp16.profiles.core import CoreProfile, restore_availability
from pievse.firmware.ocpp16.profiles.firmware_management import FirmwareProfile
from pievse.firmware.ocpp16.profiles.local_auth_list import LocalAuthListProfile
from pievse.firmware.ocpp16.profiles.remote_trigger import RemoteTriggerProfile
from pievse.firmware.ocpp16.profiles.reservation import ReservationProfile
from pievse.firmware.ocpp16.profiles.security import SecurityExtensionProfile
from pievse.firmware.ocpp16.profiles.smart_charging import SmartChargingProfile
from pievse.firmware.ocpp16.security_keys import security_key_specs
from pievse.firmware.ocpp16.smart_charging import SmartCharging
from pievse.firmware.ocpp16.status_reporter import VENDOR_ID, StatusReporter
from pievse.firmware.ocpp16.transaction_reporter import TransactionReporter
from pievse.firmware.persistence.store import Store
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateStore,
)
from pievse.firmware.security.connection_security import ConnectionSecurity, SecurityConfigError
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.id_tag_info import ANYONE, IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.updates.firmware_updates import FINAL, FirmwareUpdates
from pievse.firmware.updates.releases import Releases

log = logging.getLogger(__name__)
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "pievse"
STOP_TASKS_S = 5.0
STOP_DRAIN_S = 2.0


@dataclass(frozen=True)
class RunOptions:
    board: str = "bench-sim"
    config: Path | None = None
    csms: str | None = None
    charge_point_id: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    api: str | None = None


FLAG_KEYS = {
    "csms": ("--csms", "ocpp", "csms_url"),
    "charge_point_id": ("--id", "charge_point", "id"),
    "api": ("--api", "api", "listen"),
}
"""RunOptions field -> (flag, config section, key): what each flag overrides."""


def resolve_config(options: RunOptions) -> Config:
    """The config file with command-line flags applied on top: each flag validated like its
    key and overriding that key only (the rest of its section stays as the file has it)."""
    config = load_config(options.config)
    for option, (flag, section, key) in FLAG_KEYS.items():
        value = getattr(options, option)
        if value is None:
            continue
        checked = getattr(parse_config({section: {key: value}}, flag), section)
        merged = replace(getattr(config, section), **{key: getattr(checked, key)})
        config = replace(config, **{section: merged})
    return config


class Wallbox:
    """One running wallbox: devices, controller, store, OCPP link and API, started and
    stopped together."""

    def __init__(
        self,
        options: RunOptions,
        clock: Clock | None = None,
        restart: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        config = resolve_config(options)
        self.clock = clock or SystemClock()
        spec = load_board(options.board)
        self.board = assemble(spec, self.clock.monotonic, options.data_dir)
        self.store = Store(options.data_dir / "pievse.db")
        measurands = deliverable_measurands(
            self.board.meter.measurands, self.board.ev_soc is not None
        )
        self.security: ConnectionSecurity | None = None
        self.keys = ConfigurationKeys(
            self.store,
            [
                *core_key_specs(config, measurands),
                *security_key_specs(config, self._profile_allowed),
            ],
        )
        self.config = config = _with_stored_keys(config, self.store)
        self.security_log = SecurityLog(
            self.store, self.clock, config.security.security_log_max_entries
        )
        self.certificates = CertificateStore(
            options.data_dir / "certs", self.clock.now, config.security.certificate_store_max_length
        )
        _provision(config.security, self.certificates)
        self.diagnostics = DiagnosticsLog(options.data_dir / "logs")
        self.uploads: LogUploads | None = None
        self.releases = Releases(Path(config.firmware.install_root))
        self.firmware: FirmwareUpdates | None = None
        self.diagnostics_uploads: DiagnosticsUploads | None = None
        self.systemd = SystemdNotifier()
        self._data_dir = options.data_dir
        self._tamper_seen = False
        self.sessions = SessionLog(self.store)
        self.reservations = ReservationBook(self.store, self.clock)
        self._authorizer: Authorizer | None = None
        self.controller = ChargeController(
            self.board, config, self.clock, self.sessions, self._authorize, self.reservations
        )
        self._bind_policy()
        self.restart_kind: str | None = None
        self._restart_hook = restart
        self.restart_requested = asyncio.Event()
        self.link: CsmsLink | None = None
        self.core: CoreProfile | None = None
        self.outbox: Outbox | None = None
        self.transactions: TransactionReporter | None = None
        self.statuses: StatusReporter | None = None
        self.smart: SmartCharging | None = None
        if config.ocpp.csms_url:
            self._build_ocpp(config)
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._services: list[asyncio.Task[None]] = []
        self.api_address: tuple[str, int] | None = None

    def _build_ocpp(self, config: Config) -> None:
        controller = self.controller
        self.outbox = outbox = Outbox(self.store, self.sessions, self.keys)
        self.transactions = transactions = TransactionReporter(
            outbox, self.sessions, self.keys, self.clock, self._reading, controller.deauthorize
        )
        controller.session_listeners.append(transactions)
        self.security_log.sender = outbox.put_durable
        self.security = security = ConnectionSecurity(
            self.store,
            self.keys,
            self.certificates,
            self.security_log,
            config.charge_point.id,
            config.ocpp.csms_url,
            config.security.csms_url_tls,
            config.security.upgrade_attempts,
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
        settings = LinkSettings(
            config.ocpp.csms_url,
            config.charge_point.id,
            config.ocpp.response_timeout_s,
            config.ocpp.reconnect_min_s,
            config.ocpp.reconnect_max_s,
        )
        self.link = link = CsmsLink(
            settings, self._boot_payload(), self.keys, outbox, self.clock, (), security
        )
        link.on_clock_set.append(
            lambda skew: self.security_log.record(
                "SettingSystemTime", f"clock set from the CSMS, it was {skew:+.1f} s off"
            )
        )
        link.on_invalid_message = self._invalid_message
        restore_availability(self.store, controller)
        self.statuses = statuses = StatusReporter(
            lambda: {0: controller.box_status(), 1: controller.connector_status()},
            outbox,
            self.keys,
            self.clock,
            lambda: link.accepted,
        )
        controller.step_listeners.append(statuses.observe)
        link.on_accepted.append(statuses.resync)
        tags = IdTagStore(self.store)
        self._authorizer = authorizer = Authorizer(link, tags, self.keys, self.clock)
        transactions.id_tag_listeners.append(authorizer.learn)
        self.smart = smart = SmartCharging(
            ProfileStore(self.store),
            self.keys,
            self.clock,
            self.board.ratings,
            lambda: controller.session,
            transactions.transaction_id,
            controller.wake,
        )
        controller.limits.register("charging_profile", smart.limit_a)
        controller.session_listeners.append(smart)
        self.core = CoreProfile(
            controller,
            self.keys,
            authorizer,
            transactions,
            outbox,
            self.store,
            self._restart,
            smart,
        )
        self.core.vendors[VENDOR_ID] = self._vendor_data_transfer

        async def log_status(status: str, request_id: int | None) -> None:
            outbox.put("LogStatusNotification", _status_payload(status, request_id))

        self.uploads = uploads = LogUploads(
            self.diagnostics, self.security_log, self.clock, config.charge_point.id, log_status
        )
        extension = SecurityExtensionProfile(
            link,
            self.keys,
            self.certificates,
            security,
            self.security_log,
            uploads,
            config.charge_point.id,
        )
        self.firmware = firmware = FirmwareUpdates(
            self.releases,
            self._data_dir,
            self.certificates,
            self.security_log,
            self.clock,
            firmware_version(),
            config.firmware.verify_timeout_s,
            config.firmware.max_bundle_mb * 1_000_000,
            self._firmware_status,
            lambda: controller.session is None,
            self._restart_into_release,
        )
        link.on_accepted.append(firmware.registered)
        self.diagnostics_uploads = diagnostics = DiagnosticsUploads(
            self.diagnostics,
            self._diagnostics_state,
            self.clock,
            config.charge_point.id,
            lambda status: outbox.put("DiagnosticsStatusNotification", {"status": status}),
        )
        triggers = RemoteTriggerProfile(link, statuses, transactions)
        triggers.extended.update(
            {
                "LogStatusNotification": uploads.notify_current,
                "SignChargePointCertificate": extension.request_signing,
                "FirmwareStatusNotification": self._signed_firmware_status,
            }
        )
        triggers.current.update(
            {
                "FirmwareStatusNotification": lambda: {
                    "status": firmware.current_status(signed_form=False)
                },
                "DiagnosticsStatusNotification": lambda: {"status": diagnostics.status},
            }
        )
        link.set_handlers(
            [
                self.core,
                triggers,
                extension,
                FirmwareProfile(
                    firmware,
                    diagnostics,
                    config.firmware.retries,
                    config.firmware.retry_interval_s,
                ),
                SmartChargingProfile(smart),
                LocalAuthListProfile(tags, self.keys),
                ReservationProfile(self.reservations, controller, self.keys, self.clock),
            ]
        )

    def _boot_payload(self) -> dict[str, Any]:
        cp = self.config.charge_point
        payload = {
            "chargePointVendor": cp.vendor,
            "chargePointModel": (cp.model or self.board.name)[:20],
            "chargePointSerialNumber": (cp.serial or cp.id)[:25],
            "chargeBoxSerialNumber": (cp.serial or cp.id)[:25],
            "firmwareVersion": firmware_version(),
            "meterType": self.board.meter_model.upper()[:25],
            "meterSerialNumber": cp.meter_serial,
        }
        return {k: v for k, v in payload.items() if v}

    def _profile_allowed(self, value: str) -> bool:
        return self.security is not None and self.security.allowed_profile(value)

    def _invalid_message(self, text: str) -> None:
        self.security_log.record("InvalidMessages", text)

    async def _signed_firmware_status(self) -> None:
        assert self.link is not None and self.firmware is not None
        firmware = self.firmware
        payload = _status_payload(
            firmware.current_status(signed_form=True),
            firmware.request_id if firmware.signed else None,
        )
        await self.link.request("SignedFirmwareStatusNotification", payload)

    def _firmware_status(self, status: str, signed: bool, request_id: int | None) -> None:
        """Final states are durable: the result of an update must reach the CSMS."""
        assert self.outbox is not None
        payload = _status_payload(status, request_id if signed else None)
        action = "SignedFirmwareStatusNotification" if signed else "FirmwareStatusNotification"
        if status in FINAL:
            self.outbox.put_durable(action, payload)
        else:
            self.outbox.put(action, payload)

    def _diagnostics_state(self) -> dict[str, Any]:
        """What GetDiagnostics uploads besides the log; nothing write-only in it."""
        configuration, _ = self.keys.get_configuration(None)
        return {
            "status": self.status(),
            "configuration": configuration,
            "sessions": [asdict(session) for session in self.sessions.recent(100)],
            "security_log": [event.line() for event in self.security_log.events()],
            "releases": {"current": self.releases.current(), "previous": self.releases.previous()},
        }

    async def _restart_into_release(self, reason: str) -> None:
        await self._restart("Firmware", reason)

    def restart_executable(self) -> str | None:
        """After a firmware restart, the program to start: the release now current."""
        current = self.releases.current()
        if self.restart_kind != "Firmware" or current is None:
            return None
        return str(self.releases.executable(current).resolve())

    def _watch_tamper(self) -> None:
        opened = Fault.TAMPER in self.controller.supervisor.faults()
        if opened and not self._tamper_seen:
            self.security_log.record("TamperDetectionActivated", "enclosure opened")
        self._tamper_seen = opened

    def _bind_policy(self) -> None:
        policy = self.controller.policy
        keys = self.keys
        bindings: dict[str, Callable[[], None]] = {
            "ConnectionTimeOut": lambda: setattr(
                policy, "connection_timeout_s", float(keys.number("ConnectionTimeOut"))
            ),
            "StopTransactionOnEVSideDisconnect": lambda: setattr(
                policy, "stop_on_ev_disconnect", keys.flag("StopTransactionOnEVSideDisconnect")
            ),
            "UnlockConnectorOnEVSideDisconnect": lambda: setattr(
                policy, "unlock_on_ev_disconnect", keys.flag("UnlockConnectorOnEVSideDisconnect")
            ),
            "StopTransactionOnInvalidId": lambda: setattr(
                policy, "stop_on_invalid_id", keys.flag("StopTransactionOnInvalidId")
            ),
        }
        for name, apply in bindings.items():
            apply()
            keys.on_change(name, lambda _value, apply=apply: apply())

    async def _authorize(self, id_tag: str) -> IdTagInfo:
        if self._authorizer is None:
            return ANYONE
        return await self._authorizer.authorize(id_tag)

    def _reading(self) -> Reading:
        ratings = self.board.ratings
        controller = self.controller
        return Reading(
            controller.measurements,
            controller.offered_a,
            ratings.phases,
            ratings.nominal_voltage_v,
            controller.temperatures_c,
            controller.ev_soc_percent,
        )

    def _vendor_data_transfer(
        self, message_id: str | None, _data: str | None
    ) -> tuple[str, str | None]:
        """Vendor "pievse", messageId "Status": the local API's status document."""
        if message_id != "Status":
            return "UnknownMessageId", None
        return "Accepted", json.dumps(self.status())

    async def _restart(self, kind: str, reason: str | None = None) -> None:
        self.security_log.record("ResetOrReboot", reason or f"{kind} reset requested by the CSMS")
        self.restart_kind = kind
        self.restart_requested.set()
        if self._restart_hook is not None:
            await self._restart_hook(kind)

    def status(self) -> dict[str, Any]:
        status = self.controller.snapshot()
        status["board"] = self.board.name
        reservation = self.reservations.current()
        status["reservation"] = (
            None
            if reservation is None
            else {
                "id": reservation.id,
                "connector_id": reservation.connector_id,
                "id_tag": reservation.id_tag,
                "parent_id_tag": reservation.parent_id_tag,
                "expires_at": reservation.expires_at.isoformat(),
            }
        )
        status["charge_point_id"] = self.config.charge_point.id
        if self.link is None:
            status["ocpp"] = {"connected": False, "registration": "standalone", "csms_url": None}
            return status
        status["ocpp"] = self.link.describe()
        if self.smart is not None:
            status["limit"]["charging_profile"] = self.smart.describe()
        session = self.controller.session
        if session is not None and self.transactions is not None:
            connector = status["connectors"]["1"]
            connector["transaction_id"] = self.transactions.transaction_id(session.id)
            connector["session_id"] = session.id
        return status

    async def start(self) -> None:
        host, port = parse_listen(self.config.api.listen) or ("127.0.0.1", 8080)
        self._runner = web.AppRunner(build_app(self.status, self.board.bench), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self.store.close()
            raise ApiListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.api_address = self._runner.addresses[0][:2]
        self.diagnostics.attach()
        self.security_log.record("StartupOfTheDevice", f"pievse {firmware_version()} started")
        self.controller.step_listeners.append(self._watch_tamper)
        self.controller.step_listeners.append(self.systemd.watchdog)
        if self.firmware is not None:
            self.firmware.watch_verification()
        self._task = asyncio.create_task(self.controller.run(), name="control-loop")
        self._services = [
            asyncio.create_task(self.security_log.run(), name="security-bursts"),
            asyncio.create_task(keep_heap_trimmed(), name="heap-trim"),
        ]
        if self.link is not None:
            assert self.statuses is not None and self.transactions is not None
            self._services += [
                asyncio.create_task(self.link.run(), name="csms-link"),
                asyncio.create_task(self.statuses.run(), name="status-notifications"),
                asyncio.create_task(self.transactions.run_clock_aligned(), name="aligned-values"),
            ]
            if self.smart is not None:
                self._services.append(
                    asyncio.create_task(self.smart.run(), name="charging-profiles")
                )
            log.info("CSMS %s as %s", self.link.url, self.config.charge_point.id)
        else:
            log.info("no CSMS configured: running standalone (%s)", self._standalone_mode())
        log.info(
            "board %s; local API on http://%s:%d/api/status", self.board.name, *self.api_address
        )
        self.systemd.ready(f"pievse {firmware_version()} on {self.board.name}")
        trim_heap()

    def _standalone_mode(self) -> str:
        tag = self.config.standalone.free_vend_id_tag
        return f"free charging as {tag!r}" if tag else "any presented tag authorizes"

    async def stop(self) -> None:
        self.systemd.stopping()
        self.controller.end_session("Reboot")
        self.security_log.flush()
        if self.link is not None and self.link.accepted and self.outbox is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_DRAIN_S):
                    await self.outbox.drained()
        tasks = [*self._services, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=STOP_TASKS_S) if tasks else (set(), set())
        for task in stuck:
            # A service that swallows its cancellation must not hold the box up; say where.
            where = io.StringIO()
            task.print_stack(file=where)
            log.error(
                "task %s did not stop within %.0f s:\n%s",
                task.get_name(),
                STOP_TASKS_S,
                where.getvalue(),
            )
        for service in (self.uploads, self.firmware, self.diagnostics_uploads):
            if service is not None:
                await service.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        self.diagnostics.detach()
        self.controller.shutdown()
        await self.board.meter.close()
        self.store.close()

    async def wait(self) -> None:
        """Until the control loop ends; it only ends by failing, and then the box must stop."""
        assert self._task is not None
        await self._task


def _status_payload(status: str, request_id: int | None) -> dict[str, Any]:
    """A status notification, with the requestId of the request it reports on, if any."""
    payload: dict[str, Any] = {"status": status}
    if request_id is not None:
        payload["requestId"] = request_id
    return payload


def _provision(security: SecurityConfig, certificates: CertificateStore) -> None:
    """Certificates the config file names (first trust, factory client certificate)."""
    roots = (
        ("central_system_root_certificate", CENTRAL_SYSTEM_ROOT),
        ("manufacturer_root_certificate", MANUFACTURER_ROOT),
    )
    for key, kind in roots:
        path = getattr(security, key)
        if not path:
            continue
        try:
            certificates.install_roots(kind, Path(path).read_bytes())
        except (OSError, CertificateError) as exc:
            raise ConfigError(f"[security] {key}: {path}: {exc}") from None
    chain, key_file = security.charge_point_certificate, security.charge_point_key
    if bool(chain) != bool(key_file):
        raise ConfigError("[security] charge_point_certificate and charge_point_key go together")
    if chain and not certificates.chain_path.exists():
        try:
            certificates.install_charge_point_certificate(
                Path(chain).read_bytes(), Path(key_file).read_bytes()
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"[security] charge_point_certificate: {exc}") from None


def _with_stored_keys(config: Config, store: Store) -> Config:
    """Keys the CSMS changed that are read only at start-up (RebootRequired)."""
    stored = store.get_setting(PREFIX + "MeterPollInterval")
    if stored is None or not stored.isdigit():
        return config
    return replace(config, meter=replace(config.meter, poll_interval_s=float(stored)))


def firmware_version() -> str:
    try:
        return metadata.version("pievse")
    except metadata.PackageNotFoundError:
        return "unknown"


class ApiListenError(RuntimeError):
    pass


@dataclass(frozen=True)
class Restart:
    kind: str
    """Soft, Hard (a CSMS reset) or Firmware (into another release)."""
    executable: str | None
    """For Firmware: the release's program to start instead of this one."""


async def run(options: RunOptions) -> Restart | None:
    """Runs until a signal, a failure or a restart; returns the restart asked for, if any."""
    wallbox = Wallbox(options)
    await wallbox.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(wallbox.wait())
    stopper = asyncio.create_task(stop.wait())
    resetter = asyncio.create_task(wallbox.restart_requested.wait())
    await asyncio.wait({waiter, stopper, resetter}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    resetter.cancel()
    log.info("stopping: contactor open, pilot at +12 V")
    await wallbox.stop()
    if waiter.done() and not waiter.cancelled() and waiter.exception():
        raise waiter.exception()  # type: ignore[misc]
    waiter.cancel()
    if wallbox.restart_kind is None:
        return None
    return Restart(wallbox.restart_kind, wallbox.restart_executable())
