"""Composition root: the only module that knows boards; it wires devices, the controller,
the store and, where a CSMS is configured, the OCPP services, and starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from pievse.board.assembly import assemble
from pievse.board.loader import load_board
from pievse.firmware.api.access import token_places
from pievse.firmware.api.connection_gate import ConnectionGate, start_gated
from pievse.firmware.api.live_history import LiveHistory
from pievse.firmware.api.settings_file import ConfigFileSettings
from pievse.firmware.api.status_page import StatusChanges
from pievse.firmware.app.box_records import open_records
from pievse.firmware.app.commissioning_wiring import commissioning_for
from pievse.firmware.app.heap_trim import (
    freeze_start_up_heap,
    keep_heap_trimmed,
    thaw_heap,
    trim_heap,
)
from pievse.firmware.app.local_api_wiring import local_api
from pievse.firmware.app.mqtt_wiring import box_mqtt_bridge
from pievse.firmware.app.ocpp_core import OcppServices
from pievse.firmware.app.ocpp_parts import BoxParts, box_identity
from pievse.firmware.app.process_share import ProcessShare
from pievse.firmware.app.restarts import Restarts
from pievse.firmware.app.run_options import (
    RunOptions,
    firmware_version,
    overridden_keys,
    resolve_config,
)
from pievse.firmware.app.session_policy_keys import bind_session_policy
from pievse.firmware.app.site_sources import register_owner_limits, register_supply_limits
from pievse.firmware.app.status_document import PartFailures, box_status, plot_inputs, status_key
from pievse.firmware.app.systemd_notify import SystemdNotifier
from pievse.firmware.app.task_stop import cancel_all
from pievse.firmware.clock import Clock, SystemClock
from pievse.firmware.config import Config, parse_listen
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.control.faults import Fault
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.persistence.owner_lock import OwnerLock
from pievse.firmware.persistence.private_files import private_directory
from pievse.firmware.rpc.traffic import NO_TRAFFIC, TrafficObserver
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.id_tag_info import ANYONE, IdTagInfo
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.stop_reasons import StopReason
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.grid_meter import GridMeterPoller
from pievse.firmware.site.grid_readings import GridReadings
from pievse.hal.interfaces import Board

log = logging.getLogger(__name__)
STOP_TASKS_S = 5.0
STOP_DRAIN_S = 2.0
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
        alone = shares_process is None
        private_directory(options.data_dir)
        self._owner = OwnerLock(options.data_dir) if alone else None
        self._token_places = token_places(options.config, options.data_dir)
        self._traffic = traffic
        self._shares_process = not alone
        self.board = board = _assembled_board(options, clock.monotonic, shares_process)
        records = open_records(
            options.data_dir, config, board, clock, self._profile_allowed, power_safe=alone
        )
        self.store, self.keys, self.config = records.store, records.keys, records.config
        self.front, self.session_log = records.front, records.session_log
        self.security_log, self.certificates = records.security_log, records.certificates
        self.diagnostics, self.releases = records.diagnostics, records.releases
        self.systemd = SystemdNotifier()
        self._tamper_seen = False
        self.reservations = ReservationBook(self.store, clock)
        self.controller = self._controller(core_on_own_thread=alone)
        self.availability = Availability(self.store, self.controller.sessions)
        self.availability.restore()  # before the first status is taken
        self.grid = GridReadings(clock.monotonic, self.controller.wake)
        self.main_fuse, self.site_share = register_supply_limits(
            self.controller, self.config, self.grid, clock
        )
        self._restarts = Restarts(self.store, self.security_log, restart)
        self.ocpp = self._ocpp_services(options.data_dir, records.outbox)
        self.charging_mode = self._owner_limits()
        self.mqtt = None if not self.config.mqtt.url else box_mqtt_bridge(self)
        self.commissioning = commissioning_for(self, options.data_dir)
        self.settings = self._config_file_settings(options)
        self.history = LiveHistory(lambda: plot_inputs(self.controller), self.store)
        self.status_changes = StatusChanges()
        self._part_failures = PartFailures(clock.monotonic)
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._services: list[asyncio.Task[None]] = []
        self.api_address: tuple[str, int] | None = None
        self.api_gate: ConnectionGate | None = None

    # --- the assembly, one concern a step ------------------------------------------------

    def _controller(self, *, core_on_own_thread: bool) -> ChargeController:
        """With the session rules the CSMS may change bound to its policy."""
        controller = ChargeController(
            self.board,
            self.config,
            self.clock,
            self.session_log,
            self._authorize,
            self.reservations,
            core_on_own_thread=core_on_own_thread,
        )
        bind_session_policy(controller.policy, self.keys)
        return controller

    def _owner_limits(self) -> ChargingMode:
        """The owner's mode and setpoint, after the OCPP sources, and the phase planner,
        which also weighs the phases a charging profile asks for."""
        smart = None if self.ocpp is None else self.ocpp.smart
        return register_owner_limits(
            self.controller,
            self.config.site,
            self.store,
            self.grid,
            self.clock,
            self.board.ratings,
            self.main_fuse,
            (lambda _now: None) if smart is None else smart.requested_phases,
        )

    def _config_file_settings(self, options: RunOptions) -> ConfigFileSettings:
        """The settings form's file: a change written restarts the box in place."""
        return ConfigFileSettings(
            options.config,
            self.config,
            self.clock.now(),
            overridden_keys(options),
            lambda: self._restarts.request(
                "Soft", "settings changed over the local API", SETTINGS_CHANGED
            ),
            self.clock.now,
            self._settings_written,
        )

    def _settings_written(self, values: Mapping[str, Any]) -> None:
        """A new default mode is the mode from now on: the one `PUT /api/mode` last set is
        kept in the database and would win over the file at the next start."""
        if "site.mode" in values:
            self.charging_mode.set(values["site.mode"], self.charging_mode.setpoint_a)

    def _ocpp_services(self, data_dir: Path, outbox: Outbox | None) -> OcppServices | None:
        """The chosen front's services, where a CSMS is configured (it has an outbox)."""
        if outbox is None:
            return None
        parts = BoxParts(
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
            identity=box_identity(self.config, self.board),
            restart=self._restarts.request,
            status=self.status,
            availability=self.availability,
            restarted_for=self._restarts.restarted_for,
            switch_version=self._switch_version,
            traffic=self._traffic,
            api_port=lambda: None if self.api_address is None else self.api_address[1],
        )
        return self.front.build(parts)

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
            await self._restarts.request("Soft", f"the CSMS chose OCPP {version}", VERSION_SWITCH)

        self._services.append(asyncio.create_task(when_idle(), name="version-switch"))

    @property
    def restart_kind(self) -> str | None:
        """Soft, Hard or Firmware once the box was asked to restart; None until then."""
        return self._restarts.kind

    @property
    def restart_requested(self) -> asyncio.Event:
        return self._restarts.requested

    def status(self) -> dict[str, Any]:
        return box_status(self, self._part_failures)

    async def start(self) -> None:
        await self._serve_api()
        if not self._shares_process:
            self.diagnostics.attach()
        self.security_log.record("StartupOfTheDevice", f"pievse {firmware_version()} started")
        self._watch_the_core()
        self._start_tasks()
        self._log_started()
        self.systemd.ready(f"pievse {firmware_version()} on {self.board.name}")
        if not self._shares_process:
            trim_heap()  # each a full collection: a fleet's would grow with the square of it
            freeze_start_up_heap()

    async def _serve_api(self) -> None:
        """ApiListenError, and the store released, when the local API cannot listen."""
        host, port = parse_listen(self.config.api.listen) or ("127.0.0.1", 8080)
        app = local_api(self, host, self._token_places)
        try:
            self._runner, self.api_gate = await start_gated(
                app, host, port, self.config.api.head_timeout_s
            )
        except OSError as exc:
            self._release()
            raise ApiListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.api_address = self._runner.addresses[0][:2]

    def _watch_the_core(self) -> None:
        """What follows the core's steps: the tamper event, the status changes the page
        waits on, the watchdog, an update's verification, and the grid meter's polls."""
        core = self.controller.core
        self.controller.step_listeners.append(self._watch_tamper)
        self.controller.step_listeners.append(self._note_status)
        core.listeners.append(self.systemd.watchdog)
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
            core.polls.append(poller.run)
            core.closers.append(self.board.grid_meter.close)

    def _start_tasks(self) -> None:
        """The control loop, and the services beside it that `stop` ends."""
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

    def _log_started(self) -> None:
        assert self.api_address is not None
        if self.ocpp is not None:
            log.info("CSMS %s as %s", self.ocpp.link.url, self.config.charge_point.id)
        else:
            tag = self.config.standalone.free_vend_id_tag
            mode = f"free charging as {tag!r}" if tag else "any presented tag authorizes"
            log.info("no CSMS configured: running standalone (%s)", mode)
        log.info(
            "board %s; status page http://%s:%d/ (the API under /api/)",
            self.board.name,
            *self.api_address,
        )

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
        # A service that swallows its cancellation must not hold the box up.
        await cancel_all([*self._services, *([self._task] if self._task else [])], STOP_TASKS_S)
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


def _assembled_board(
    options: RunOptions, monotonic: Callable[[], float], shares_process: ProcessShare | None
) -> Board:
    """A fleet's box takes the board file the fleet read once for all its boxes, and serves
    a simulated board's meters on the fleet's line."""
    if shares_process is None:
        return assemble(load_board(options.board), monotonic, options.data_dir)
    return assemble(
        shares_process.board(options.board), monotonic, options.data_dir, shares_process.meter_line
    )


class ApiListenError(RuntimeError):
    pass
