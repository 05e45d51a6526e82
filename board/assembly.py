"""Builds a hal Board from a BoardSpec with the drivers the board file names, and nothing else."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pievse.board.drivers import DEVICE_DRIVERS, PORT_DRIVERS, Driver
from pievse.board.loader import BoardError, BoardSpec, Section
from pievse.hal.interfaces import Board
from pievse.hal.ports import HardwareUnavailable
from pievse.hal.register_map import load_register_map
from pievse.hal.sim.meter_line import MeterLine
from pievse.hal.sim.plant import Plant


def _constructor(driver_name: str, driver: Driver) -> Callable[..., Any]:
    module_name, attribute = driver.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BoardError(
            f"driver {driver_name!r} cannot be loaded: {exc} "
            "(on a Raspberry Pi install the extra: pip install 'pievse[pi]')"
        ) from exc
    return getattr(module, attribute)


def assemble(
    spec: BoardSpec,
    monotonic: Callable[[], float] = time.monotonic,
    data_dir: Path | None = None,
    meter_line: MeterLine | None = None,
) -> Board:
    """`data_dir` holds the files drivers keep (a "data_file" parameter); None keeps none.
    `meter_line`: the line a fleet's boxes in this process share for their emulated meters;
    None: each emulated meter serves on a line of its own."""
    plant = None
    if spec.plant is not None:
        state_file = spec.plant.state_file
        kept = data_dir / state_file if state_file and data_dir is not None else None
        try:
            plant = Plant(spec.plant, monotonic, kept)
        except ValueError as exc:
            raise BoardError(f"board file {spec.path.name}: [plant] state_file: {exc}") from exc
    built_ports: dict[str, object] = {}

    def port(name: str) -> object:
        if name not in built_ports:
            section = spec.ports[name]
            driver = PORT_DRIVERS[section.driver]
            built_ports[name] = _build(
                spec.path, section, driver, port, plant, data_dir, meter_line
            )
        return built_ports[name]

    def device(kind: str) -> Any:
        section = spec.devices.get(kind)
        if section is None:
            return None
        driver = DEVICE_DRIVERS[kind][section.driver]
        return _build(spec.path, section, driver, port, plant, data_dir, meter_line)

    # The safe state before anything else: contactor open, then the pilot at +12 V.
    contactor = device("contactor")
    phase_contactor = device("phase_contactor")
    pilot = device("pilot")
    return Board(
        name=spec.name,
        ratings=spec.ratings,
        pilot=pilot,
        contactor=contactor,
        rcd=device("rcd"),
        thermometer=device("thermometer"),
        derating=spec.derating,
        meter=device("meter"),
        outlet_thermometer=device("outlet_thermometer"),
        ev_soc=device("ev_soc"),
        cable=device("cable"),
        lock=device("lock"),
        tag_reader=device("tag_reader"),
        led=device("led"),
        tamper=device("tamper"),
        grid_meter=device("grid_meter"),
        phase_contactor=phase_contactor,
        bench=plant,
        meter_model=str(spec.devices["meter"].params.get("map", "")),
    )


def _build(
    path: Path,
    section: Section,
    driver: Driver,
    port: Callable[[str], object],
    plant: Plant | None,
    data_dir: Path | None,
    meter_line: MeterLine | None,
) -> object:
    kwargs: dict[str, object] = {}
    if driver.on_meter_line and meter_line is not None:
        kwargs["line"] = meter_line
    for key, param in driver.params.items():
        value = section.params.get(key)
        if value is not None and param.kind.startswith("port:"):
            value = port(str(value))
        elif value is not None and param.kind == "map":
            kwargs["register_map"] = load_register_map(str(value))
            continue
        elif param.kind == "data_file":
            value = data_dir / str(value) if value is not None and data_dir is not None else None
        kwargs[key] = value
    construct = _constructor(section.driver, driver)
    try:
        return construct(plant, **kwargs) if driver.needs_plant else construct(**kwargs)
    except (ValueError, HardwareUnavailable) as exc:
        raise BoardError(
            f"board file {path.name}: [{section.name}] driver {section.driver!r}: {exc}"
        ) from exc
