"""Composition root: the only module that knows boards; it wires devices, the controller,
the store and, where a CSMS is configured, the OCPP services, and starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from pievse.board.assembly import assemble
from pievse.board.loader import load_board
from pievse.firmware.api.access import access_for, token_places
from pievse.firmware.api.commission_routes import add_commission_routes
from pievse.firmware.api.connection_gate import ConnectionGate, start_gated
from pievse.firmware.api.live_history import LiveHistory
from pievse.firmware.api.local_api import build_app
from pievse.firmware.api.settings_file import ConfigFileSettings
from pievse.firmware.api.settings_routes import add_settings_routes
from pievse.firmware.api.status_page import StatusChanges
from pievse.firmware.app.commissioning_wiring import commissioning_for
from pievse.firmware.app.heap_trim import (
    freeze_start_up_heap,
    keep_heap_trimmed,
    thaw_heap,
    trim_heap,
)
from pievse.firmware.app.mqtt_wiring import mqtt_bridge
from pievse.firmware.app.ocpp_core import OcppServices
from pievse.firmware.app.ocpp_fronts import FrontChoice
from pievse.firmware.app.ocpp_parts import BoxParts
from pievse.firmware.app.process_share import ProcessShare
from pievse.firmware.app.run_options import (
    RunOptions,
    firmware_version,
    overridden_keys,
    resolve_config,
)
from pievse.firmware.app.site_sources import (
    register_charging_mode,
    register_main_fuse,
    register_phase_planner,
    register_site_share,
)
from pievse.firmware.app.status_document import (
    PartFailures,
    plot_inputs,
    status_document,
    status_key,
)
from pievse.firmware.app.systemd_notify import SystemdNotifier
from pievse.firmware.clock import Clock, SystemClock
from pievse.firmware.config import Config, parse_listen
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.control.faults import Fault
from pievse.firmware.csms.configuration_keys import PREFIX, ConfigurationKeys, Key, T
from pievse.firmware.csms.key_table import (
    CONNECTION_TIME_OUT,
    METER_POLL_INTERVAL,
    STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
    STOP_TRANSACTION_ON_INVALID_ID,
    UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
    core_key_specs,
)
from pievse.firmware.csms.meter_values import deliverable_measurands
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.security_keys import security_key_specs
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.event_wait import stop_requested
from pievse.firmware.front.contract import Identity
from pievse.firmware.persistence.owner_lock import OwnerLock
from pievse.firmware.persistence.private_files import private_directory
from pievse.firmware.persistence.store import Store
from pievse.firmware.rpc.traffic import NO_TRAFFIC, TrafficObserver
from pievse.firmware.security.certificate_store import CertificateStore
from pievse.firmware.security.provisioning import provision
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.id_tag_info import ANYONE, IdTagInfo
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.session.stop_reasons import StopReason
from pievse.firmware.site.grid_meter import GridMeterPoller
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.updates.releases import Releases

log = logging.getLogger(__name__)
STOP_TASKS_S = 5.0
STOP_DRAIN_S = 2.0
RESTART_SETTING = "restart:kind"
BENCH_SITE_NOTE = "the bench has a site: a house load, PV or a scenario (POST /api/bench/site)"
VERSION_SWITCH = "VersionSwitch"
"""The restart's cause when the CSMS chose the other OCPP version (`auto`)."""
SETTINGS_CHANGED = "SettingsChanged"
"""The restart's cause when the config file was changed over the local API."""


class Wallbox:
    """One running wallbox: devices, controller, store, OCPP services and API, started and
    stopped together."""

    def __init__(
        self,
        options: RunOptions,
        clock: Clock | None = None,
        restart: Callable[[str], Awaitable[None]] | None = None,
        config: Config | None = None,
        traffic: TrafficObserver = NO_TRAFFIC,
        shares_process: ProcessShare | None = None,
    ) -> None:
        """`config`: instead of the one `options` name (a fleet builds each box's);
        `traffic`: told of the OCPP traffic (a fleet's load report); `shares_process`: one
        of a fleet's boxes, so what is the process's (the root logger's file handler, heap
        trimming) is the fleet's to do once, not every box's, the safety core runs on
        the fleet's loop instead of a thread of its own, a simulated board's meters are
        served on the fleet's shared line, and its store does not flush to disk at every
        commit (a simulated box has no power to lose)."""
        config = config or resolve_config(options)
        self.clock = clock = clock or SystemClock()
        private_directory(options.data_dir)
        self._owner = None if shares_process is not None else OwnerLock(options.data_dir)
        self._token_places = token_places(options.config, options.data_dir)
        self._traffic = traffic
        self._shares_process = shares_process is not None
        self.board = board = assemble(
            load_board(options.board)
            if shares_process is None
            else shares_process.board(options.board),
            clock.monotonic,
            options.data_dir,
            None if shares_process is None else shares_process.meter_line,
        )
        self.store = store = Store(
            options.data_dir / "pievse.db",
            restore_snapshot=True,
            power_safe=shares_process is None,
        )
        measurands = deliverable_measurands(board.meter.measurands, board.ev_soc is not None)
        self.keys = ConfigurationKeys(
            store,
            [
                *core_key_specs(config, measurands, board.phase_contactor is not None),
                *security_key_specs(config, self._profile_allowed),
            ],
        )
        self.config = config = _with_stored_keys(config, store)
        self.front = FrontChoice(config, store)
        self.session_log = SessionLog(store)
        outbox = (
            Outbox(store, self.keys, version=self.front.version) if config.ocpp.csms_url else None
        )
        self.security_log = SecurityLog(
            store,
            clock,
            config.security.security_log_max_entries,
            sender=None if outbox is None else outbox.put_durable,
        )
        self.certificates = CertificateStore(
            options.data_dir / "certs", clock.now, config.security.certificate_store_max_length
        )
        provision(config.security, self.certificates)
        self.diagnostics = DiagnosticsLog(options.data_dir / "logs")
        self.releases = Releases(Path(config.firmware.install_root))
        self.systemd = SystemdNotifier()
        self._tamper_seen = False
        self.reservations = ReservationBook(store, clock)
        self.controller = ChargeController(
            board,
            config,
            clock,
            self.session_log,
            self._authorize,
            self.reservations,
            core_on_own_thread=shares_process is None,
        )
        self._bind_policy()
        self.availability = Availability(store, self.controller.sessions)
        self.availability.restore()  # before the first status is taken
        self.grid = GridReadings(clock.monotonic, self.controller.wake)
        self.main_fuse = register_main_fuse(
            self.controller,
            config.site,
            self.grid,
            clock.monotonic,
            lambda: self.controller.measurements,
        )
        self.site_share = register_site_share(
            self.controller, config.site, config.charge_point.id, self.grid, clock
        )
        self.restart_kind: str | None = None
        self._restarted_for = store.get_setting(RESTART_SETTING) or None
        """Read once: a later power loss is a power-up again."""
        store.set_setting(RESTART_SETTING, "")
        self._restart_hook = restart
        self.restart_requested = asyncio.Event()
        self.ocpp: OcppServices | None = (
            None if outbox is None else self.front.build(self._parts(options.data_dir, outbox))
        )
        self.charging_mode = register_charging_mode(
            self.controller,
            config.site,
            store,
            self.grid,
            clock.monotonic,
            self._own_power_w,
            board.ratings,
        )
        smart = None if self.ocpp is None else self.ocpp.smart
        register_phase_planner(
            self.controller,
            config.site,
            self.main_fuse,
            self.charging_mode,
            (lambda _now: None) if smart is None else smart.requested_phases,
            clock,
        )
        self.mqtt = (
            None
            if not config.mqtt.url
            else mqtt_bridge(
                config,
                self.status,
                self.charging_mode,
                lambda: self.controller.sessions.stop_session(StopReason.LOCAL),
                (config.charge_point.model or board.name, firmware_version()),
                clock,
                None if self.site_share is None else (self.site_share, self.grid),
                self.grid,
            )
        )
        self.commissioning = commissioning_for(self, options.data_dir)
        self.settings = ConfigFileSettings(
            options.config,
            config,
            clock.now(),
            overridden_keys(options),
            lambda: self._restart("Soft", "settings changed over the local API", SETTINGS_CHANGED),
            clock.now,
            self._settings_written,
        )
        self.history = LiveHistory(lambda: plot_inputs(self.controller), store)
        self.status_changes = StatusChanges()
        self._part_failures = PartFailures(clock.monotonic)
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._services: list[asyncio.Task[None]] = []
        self.api_address: tuple[str, int] | None = None
        self.api_gate: ConnectionGate | None = None

    def _settings_written(self, values: Mapping[str, Any]) -> None:
        """A new default mode is the mode from now on: the one `PUT /api/mode` last set is
        kept in the database and would win over the file at the next start."""
        if "site.mode" in values:
            self.charging_mode.set(values["site.mode"], self.charging_mode.setpoint_a)

    def _own_power_w(self) -> float:
        m = self.controller.measurements
        return 0.0 if m is None or m.power_w is None else max(0.0, m.power_w)

    def _parts(self, data_dir: Path, outbox: Outbox) -> BoxParts:
        return BoxParts(
            config=self.config,
            clock=self.clock,
            board=self.board,
            store=self.store,
            keys=self.keys,
            session_log=self.session_log,
            reservations=self.reservations,
            controller=self.controller,
            outbox=outbox,
            certificates=self.certificates,
            security_log=self.security_log,
            diagnostics=self.diagnostics,
            releases=self.releases,
            data_dir=data_dir,
            identity=self._identity(),
            restart=self._restart,
            status=self.status,
            availability=self.availability,
            restarted_for=self._restarted_for,
            switch_version=self._switch_version,
            traffic=self._traffic,
            api_port=lambda: None if self.api_address is None else self.api_address[1],
        )

    def _identity(self) -> Identity:
        """Who the box is, within 1.6's lengths (which 2.0.1's exceed)."""
        cp = self.config.charge_point
        return Identity(
            vendor=cp.vendor,
            model=(cp.model or self.board.name)[:20],
            serial=(cp.serial or cp.id)[:25],
            firmware=firmware_version(),
            meter_type=self.board.meter_model.upper()[:25],
            meter_serial=cp.meter_serial,
        )

    def _profile_allowed(self, value: str) -> bool:
        return self.ocpp is not None and self.ocpp.security.allowed_profile(value)

    def restart_executable(self) -> str | None:
        """After a firmware restart, the program to start: the release now current."""
        current = self.releases.current()
        if self.restart_kind != "Firmware" or current is None:
            return None
        return str(self.releases.executable(current).resolve())

    def _note_status(self) -> None:
        self.status_changes.note(status_key(self.controller))

    def _watch_tamper(self) -> None:
        opened = Fault.TAMPER in self.controller.supervisor.faults()
        if opened and not self._tamper_seen:
            self.security_log.record("TamperDetectionActivated", "enclosure opened")
        self._tamper_seen = opened

    def _bind_policy(self) -> None:
        """The session rules the CSMS may change at run time, applied now and on change."""
        policy, keys = self.controller.policy, self.keys

        def bind(key: Key[T], apply: Callable[[T], None]) -> None:
            apply(keys.get(key))
            keys.on_change(key, lambda _value: apply(keys.get(key)))

        bind(CONNECTION_TIME_OUT, lambda s: setattr(policy, "connection_timeout_s", float(s)))
        bind(
            STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
            lambda on: setattr(policy, "stop_on_ev_disconnect", on),
        )
        bind(
            UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
            lambda on: setattr(policy, "unlock_on_ev_disconnect", on),
        )
        bind(STOP_TRANSACTION_ON_INVALID_ID, lambda on: setattr(policy, "stop_on_invalid_id", on))

    async def _authorize(self, id_tag: str) -> IdTagInfo:
        if self.ocpp is None:
            return ANYONE
        return await self.ocpp.authorizer.authorize(id_tag)

    def _switch_version(self, version: str) -> None:
        """The CSMS chose another version ("auto"): kept for the next start, which comes as
        soon as no session runs (the front is chosen when the box starts)."""
        if not self.front.chosen_by_csms(version):
            return
        log.warning("the CSMS speaks OCPP %s: the box restarts to speak it", version)

        async def when_idle() -> None:
            while self.controller.session is not None:
                await asyncio.sleep(1.0)
            await self._restart("Soft", f"the CSMS chose OCPP {version}", VERSION_SWITCH)

        self._services.append(asyncio.create_task(when_idle(), name="version-switch"))

    async def _restart(
        self, kind: str, reason: str | None = None, cause: str | None = None
    ) -> None:
        """`cause`: why, for the next boot's reason, where `kind` does not say it. The box
        restarts once: a reset asked while one is under way (a second CSMS reset, an OnIdle
        one whose transaction an Immediate one ended, an update's switch) is the same
        restart, already on its way."""
        if self.restart_requested.is_set():
            log.info("%s restart: a restart is already under way", kind)
            return
        self.security_log.record("ResetOrReboot", reason or f"{kind} reset requested by the CSMS")
        self.restart_kind = kind
        self.store.set_setting(RESTART_SETTING, cause or kind)
        self.restart_requested.set()
        if self._restart_hook is not None:
            await self._restart_hook(kind)

    def status(self) -> dict[str, Any]:
        main_fuse, share, mqtt = self.main_fuse, self.site_share, self.mqtt
        document = status_document(
            self.controller,
            self.board.name,
            self.config.charge_point.id,
            self.reservations.current,
            self.ocpp,
            {
                "grid": self.grid.describe,
                "main_fuse": lambda: {
                    "main_fuse": None if main_fuse is None else main_fuse.describe()
                },
                "charging_mode": self.charging_mode.describe,
                "phases": lambda: {"phases": self.controller.state.phases.describe()},
                "sharing": lambda: {"sharing": None if share is None else share.describe()},
            },
            self._part_failures,
        )
        return document | self._part_failures.describe(
            {
                "mqtt": lambda: None if mqtt is None else mqtt.describe(),
                "firmware_version": firmware_version,
                "bench": lambda: self.board.bench is not None,
            }
        )

    async def start(self) -> None:
        host, port = parse_listen(self.config.api.listen) or ("127.0.0.1", 8080)
        app = build_app(
            self.status,
            self.board.bench,
            self.grid,
            self.charging_mode,
            access_for(host, self.config.api, self.store, self._token_places),
            self.session_log,
            (
                self.history,
                self.status_changes,
                lambda: self.controller.sessions.stop_session(StopReason.LOCAL),
            ),
            self.availability,
        )
        add_commission_routes(app, self.commissioning)
        add_settings_routes(app, self.settings)
        try:
            self._runner, self.api_gate = await start_gated(
                app, host, port, self.config.api.head_timeout_s
            )
        except OSError as exc:
            self._release()
            raise ApiListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.api_address = self._runner.addresses[0][:2]
        if not self._shares_process:
            self.diagnostics.attach()
        self.security_log.record("StartupOfTheDevice", f"pievse {firmware_version()} started")
        self.controller.step_listeners.append(self._watch_tamper)
        self.controller.step_listeners.append(self._note_status)
        self.controller.core.listeners.append(self.systemd.watchdog)
        if self.ocpp is not None:
            self.ocpp.jobs.firmware.watch_verification()
        if self.board.grid_meter is not None:
            # On the core's loop: it may share the charger meter's line.
            poller = GridMeterPoller(
                self.board.grid_meter,
                self.grid,
                self.config.meter.poll_interval_s,
                BENCH_SITE_NOTE if self.board.bench is not None else None,
            )
            self.controller.core.polls.append(poller.run)
            self.controller.core.closers.append(self.board.grid_meter.close)
        self._task = asyncio.create_task(self.controller.run(), name="control-loop")
        self._services = [
            asyncio.create_task(self.security_log.run(), name="security-bursts"),
            asyncio.create_task(self.history.run(), name="plot-history"),
        ]
        if not self._shares_process:
            self._services.append(asyncio.create_task(keep_heap_trimmed(), name="heap-trim"))
        if self.mqtt is not None:
            self._services.append(asyncio.create_task(self.mqtt.run(), name="mqtt"))
        if self.ocpp is not None:
            self._services += [
                asyncio.create_task(job, name=name) for name, job in self.ocpp.tasks().items()
            ]
            log.info("CSMS %s as %s", self.ocpp.link.url, self.config.charge_point.id)
        else:
            log.info("no CSMS configured: running standalone (%s)", self._standalone_mode())
        log.info(
            "board %s; status page http://%s:%d/ (the API under /api/)",
            self.board.name,
            *self.api_address,
        )
        self.systemd.ready(f"pievse {firmware_version()} on {self.board.name}")
        if not self._shares_process:
            trim_heap()  # each a full collection: a fleet's would grow with the square of it
            freeze_start_up_heap()

    def _standalone_mode(self) -> str:
        tag = self.config.standalone.free_vend_id_tag
        return f"free charging as {tag!r}" if tag else "any presented tag authorizes"

    async def stop(self) -> None:
        if self.restart_kind in (None, "Firmware"):
            self.systemd.stopping()  # the process ends (under systemd, a new release too)
        else:
            self.systemd.status(f"restarting in place ({self.restart_kind})")
        # Reboot when the box restarts itself; a plain stop (SIGTERM) may be for good. Either
        # way the connectors go Unavailable, never Preparing for a session that cannot come.
        self.controller.shut_down_session(
            StopReason.REBOOT if self.restart_kind else StopReason.OTHER
        )
        if self.ocpp is not None:
            self.ocpp.statuses.flush()
        self.security_log.flush()
        if self.ocpp is not None and self.ocpp.csms.accepted:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_DRAIN_S):
                    await self.ocpp.outbox.drained()
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
        if self.ocpp is not None:
            await self.ocpp.stop_jobs()
        if self._runner is not None:
            await self._runner.cleanup()
        self.diagnostics.detach()
        self.controller.shutdown()  # the core closed its devices as it ended
        self._release()
        if not self._shares_process:
            thaw_heap()

    def _release(self) -> None:
        self.store.close()
        if self._owner is not None:
            self._owner.release()

    async def wait(self) -> None:
        """Until the control loop ends; it only ends by failing, and then the box must stop."""
        assert self._task is not None
        await self._task


def _with_stored_keys(config: Config, store: Store) -> Config:
    """Keys the CSMS changed that are read only at start-up (RebootRequired)."""
    stored = store.get_setting(PREFIX + METER_POLL_INTERVAL.name)
    if stored is None or not stored.isdigit():
        return config
    return replace(config, meter=replace(config.meter, poll_interval_s=float(stored)))


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
    stop = stop_requested()
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
