"""`pievse meter-emulator`: a meter emulator as a process, with an HTTP control for its load.

A bench or a test rig sets the load (`PUT /load`) and injects faults (`PUT /fault`) while a
wallbox, the real driver, reads the meter over Modbus TCP or RTU. `--pty` makes a paced
pseudo-terminal line and prints the end a client opens, so RTU works without hardware.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from pievse.hal.register_map import load_register_map
from pievse.hal.sim.meter_emulator import METER_FAULTS, MeterEmulator, SetLoad
from pievse.hal.sim.scenario import Scenario, ScenarioError
from pievse.hal.sim.serial_wire import SerialWire
from pievse.hal.sim.site import SiteGridSource, SiteModel, apply_request

LOAD_FIELDS = {
    "current_a": float,
    "phases": int,
    "voltage_v": float,
    "power_factor": float,
    "frequency_hz": float,
}


@dataclass(frozen=True)
class EmulatorOptions:
    map_name: str = "sdm630"
    device_id: int = 1
    tcp: tuple[str, int] | None = ("127.0.0.1", 5020)
    serial: str | None = None
    pty: bool = False
    baudrate: int = 9600
    parity: str = "N"
    stop_bits: int = 1
    control: tuple[str, int] | None = None
    energy_file: Path | None = None
    load: dict[str, Any] | None = None
    fault: str | None = None
    grid_device_id: int | None = None
    """A grid meter of the same map on the same line: the site's house and PV (from
    `scenario`, or set over the control) with the load above drawn on top."""
    scenario: str | None = None
    speed: float = 60.0
    start_s: float = 0.0


class EmulatorError(Exception):
    """A setting the emulator cannot start with; the message names it."""


def _say(line: str) -> None:
    print(line, flush=True)


async def run_emulator(options: EmulatorOptions) -> None:
    try:
        register_map = load_register_map(options.map_name)
        load = SetLoad(phases=1 if options.map_name == "sdm120" else 3)
        load.set(**(options.load or {}))
        emulator = MeterEmulator(register_map, load, options.device_id, options.energy_file)
        site = _site(options, emulator, load)
    except ValueError as exc:
        raise EmulatorError(str(exc)) from exc
    wire: SerialWire | None = None
    runner: web.AppRunner | None = None
    describe = f"map {register_map.name} ({register_map.model}), device {options.device_id}"
    if options.grid_device_id is not None:
        describe += f", grid meter device {options.grid_device_id}"
    try:
        if options.pty:
            wire = SerialWire(options.baudrate, options.parity, options.stop_bits)
            await emulator.start_rtu(
                wire.b_path, options.baudrate, options.parity, options.stop_bits
            )
            _say(f"modbus rtu {wire.a_path} {options.baudrate} baud: {describe}")
        elif options.serial:
            await emulator.start_rtu(
                options.serial, options.baudrate, options.parity, options.stop_bits
            )
            _say(f"modbus rtu {options.serial} {options.baudrate} baud: {describe}")
        else:
            host, port = options.tcp or ("127.0.0.1", 5020)
            try:
                bound = await emulator.start_tcp(host, port)
            except OSError as exc:
                raise EmulatorError(f"--tcp: cannot listen on {host}:{port}: {exc}") from exc
            _say(f"modbus tcp {bound[0]}:{bound[1]}: {describe}")
        try:
            emulator.set_fault(options.fault)
        except ValueError as exc:
            raise EmulatorError(f"--fault: {exc}") from exc
        if options.control is not None:
            runner = web.AppRunner(control_app(emulator, load, site))
            await runner.setup()
            control = web.TCPSite(runner, *options.control)
            try:
                await control.start()
            except OSError as exc:
                raise EmulatorError(f"--control: cannot listen: {exc}") from exc
            address = runner.addresses[0]
            _say(f"control http://{address[0]}:{address[1]}")
        await _until_stopped()
    finally:
        if runner is not None:
            await runner.cleanup()
        await emulator.stop()
        if wire is not None:
            wire.close()


def _site(options: EmulatorOptions, emulator: MeterEmulator, load: SetLoad) -> SiteModel | None:
    if options.grid_device_id is None:
        if options.scenario is not None:
            raise ValueError("--scenario plays a grid meter's site: give --grid-device-id too")
        return None
    if options.grid_device_id == options.device_id:
        raise ValueError("--grid-device-id must differ from --device-id (one line, two units)")
    site = SiteModel()
    if options.scenario is not None:
        try:
            site.play(Scenario.named(options.scenario), options.speed, options.start_s)
        except ScenarioError as exc:
            raise ValueError(f"--scenario: {exc}") from None
    grid = MeterEmulator(emulator.register_map, SiteGridSource(site, load), options.grid_device_id)
    emulator.share_line(grid)
    return site


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def control_app(
    emulator: MeterEmulator, load: SetLoad, site: SiteModel | None = None
) -> web.Application:
    control = _Control(emulator, load, site)
    app = web.Application()
    app.router.add_get("/site", control.get_site)
    app.router.add_put("/site", control.put_site)
    app.router.add_get("/load", control.get_load)
    app.router.add_put("/load", control.put_load)
    app.router.add_put("/fault", control.put_fault)
    return app


class _Control:
    """The control's handlers: the load and the fault answer with the emulator's state, the
    site (a grid meter's only) with its own."""

    def __init__(self, emulator: MeterEmulator, load: SetLoad, site: SiteModel | None) -> None:
        self._emulator = emulator
        self._load = load
        self._site = site

    def _state(self) -> web.Response:
        return web.json_response(
            {
                **self._load.describe(),
                "energy_wh": round(self._emulator.energy_wh(), 3),
                "fault": self._emulator.fault,
            }
        )

    async def get_load(self, _: web.Request) -> web.Response:
        return self._state()

    async def put_load(self, request: web.Request) -> web.Response:
        values = _load_values(await _json_object(request))
        try:
            self._load.set(**values)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        return self._state()

    async def put_fault(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        fault = body.get("fault")
        if set(body) != {"fault"} or not (fault is None or isinstance(fault, str)):
            raise _bad(f'expected {{"fault": one of {", ".join(METER_FAULTS)} or null}}')
        try:
            self._emulator.set_fault(fault)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        return self._state()

    async def get_site(self, _: web.Request) -> web.Response:
        return web.json_response(self._site_model().describe())

    async def put_site(self, request: web.Request) -> web.Response:
        """{"house_a": [3 A], "pv_w": W} live, or {"scenario", "speed"?, "at_s"?}."""
        site = self._site_model()
        body = await _json_object(request)
        try:
            apply_request(site, body)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
        return web.json_response(site.describe())

    def _site_model(self) -> SiteModel:
        if self._site is None:
            raise web.HTTPNotFound(reason="no grid meter: start with --grid-device-id")
        return self._site


def _load_values(body: dict[str, Any]) -> dict[str, Any]:
    """PUT /load's fields, each a number of its kind; HTTPBadRequest names the first that
    is not."""
    unknown = sorted(set(body) - set(LOAD_FIELDS))
    if unknown:
        raise _bad(f"unknown field {unknown[0]!r}; known: {', '.join(LOAD_FIELDS)}")
    values: dict[str, Any] = {}
    for name, value in body.items():
        kind = LOAD_FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"{name}: expected a number, got {value!r}")
        if kind is int and value != int(value):
            raise _bad(f"{name}: expected an integer, got {value!r}")
        values[name] = kind(value)
    return values


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise _bad(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad("body must be a JSON object")
    return body


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")
