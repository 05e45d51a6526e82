"""Composition root: the only module that knows boards; it wires devices into the controller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from board.assembly import assemble
from board.loader import load_board
from firmware.api import build_app
from firmware.clock import Clock, SystemClock
from firmware.config import ApiConfig, Config, load_config, parse_config, parse_listen
from firmware.controller import ChargeController
from firmware.sessions import SessionLog
from firmware.store import Store

log = logging.getLogger(__name__)
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "pievse"


@dataclass(frozen=True)
class RunOptions:
    board: str = "bench-sim"
    config: Path | None = None
    csms: str | None = None
    charge_point_id: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    api: str | None = None


def resolve_config(options: RunOptions) -> Config:
    """The config file with command-line flags applied on top, each flag validated."""
    config = load_config(options.config)
    if options.csms is not None:
        config = replace(
            config, ocpp=parse_config({"ocpp": {"csms_url": options.csms}}, "--csms").ocpp
        )
    if options.charge_point_id is not None:
        flag = parse_config({"charge_point": {"id": options.charge_point_id}}, "--id")
        config = replace(config, charge_point=flag.charge_point)
    if options.api is not None:
        config = replace(
            config,
            api=ApiConfig(parse_config({"api": {"listen": options.api}}, "--api").api.listen),
        )
    return config


async def _authorize_any(_id_tag: str) -> bool:
    return True


class Wallbox:
    """One running wallbox: devices, controller, store and API, started and stopped together."""

    def __init__(self, options: RunOptions, clock: Clock | None = None) -> None:
        self.config = resolve_config(options)
        self.clock = clock or SystemClock()
        spec = load_board(options.board)
        self.board = assemble(spec, self.clock.monotonic)
        self.store = Store(options.data_dir / "pievse.db")
        self.sessions = SessionLog(self.store)
        self.controller = ChargeController(
            self.board, self.config, self.clock, self.sessions, _authorize_any
        )
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self.api_address: tuple[str, int] | None = None

    def status(self) -> dict[str, Any]:
        status = self.controller.snapshot()
        status["board"] = self.board.name
        status["charge_point_id"] = self.config.charge_point.id
        status["ocpp"] = {
            "connected": False,
            "registration": "standalone",
            "csms_url": self.config.ocpp.csms_url or None,
        }
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
        self._task = asyncio.create_task(self.controller.run(), name="control-loop")
        if self.config.ocpp.csms_url:
            log.warning(
                "CSMS %s configured, but this build has no OCPP client yet: running standalone",
                self.config.ocpp.csms_url,
            )
        else:
            log.info("no CSMS configured: running standalone (%s)", self._standalone_mode())
        log.info(
            "board %s; local API on http://%s:%d/api/status", self.board.name, *self.api_address
        )

    def _standalone_mode(self) -> str:
        tag = self.config.standalone.free_vend_id_tag
        return f"free charging as {tag!r}" if tag else "any presented tag authorizes"

    async def stop(self) -> None:
        self.controller.end_session("Reboot")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._runner is not None:
            await self._runner.cleanup()
        self.controller.shutdown()
        self.store.close()

    async def wait(self) -> None:
        """Until the control loop ends; it only ends by failing, and then the box must stop."""
        assert self._task is not None
        await self._task


class ApiListenError(RuntimeError):
    pass


async def run(options: RunOptions) -> None:
    wallbox = Wallbox(options)
    await wallbox.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(wallbox.wait())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    log.info("stopping: contactor open, pilot at +12 V")
    await wallbox.stop()
    if waiter.done() and not waiter.cancelled() and waiter.exception():
        raise waiter.exception()  # type: ignore[misc]
