"""`pievse meter-emulator`: a simulated Modbus energy meter (TCP or RTU) served as a process,
its load and faults set over an HTTP control."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pievse.firmware.cli.address_flag import listen_address
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.hal.modbus import BAUD_RATES, PARITIES
from pievse.hal.register_map import known_maps
from pievse.hal.sim.meter_emulator import METER_FAULTS
from pievse.hal.sim.meter_emulator_service import EmulatorError, EmulatorOptions, run_emulator


def _add(commands: SubParsers) -> None:
    cmd = commands.add_parser(
        "meter-emulator",
        help="serve a simulated Modbus energy meter (TCP or RTU)",
        description="Serves a meter register map whose values follow a load you set.",
    )
    cmd.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    cmd.add_argument("--map", default="sdm630", choices=known_maps(), help="register map")
    cmd.add_argument("--device-id", type=int, default=1, help="Modbus unit id (1..247)")
    where = cmd.add_mutually_exclusive_group()
    where.add_argument(
        "--tcp",
        type=listen_address,
        default=("127.0.0.1", 5020),
        help="HOST:PORT (default 127.0.0.1:5020)",
    )
    where.add_argument("--serial", help="RTU on this serial device")
    where.add_argument(
        "--pty", action="store_true", help="RTU on a new pseudo-terminal, paced at --baud"
    )
    cmd.add_argument("--baud", type=int, default=9600, choices=BAUD_RATES)
    cmd.add_argument("--parity", default="N", choices=PARITIES)
    cmd.add_argument("--stop-bits", type=int, default=1, choices=(1, 2))
    cmd.add_argument(
        "--control", type=listen_address, help="HTTP control HOST:PORT (GET/PUT /load, PUT /fault)"
    )
    cmd.add_argument("--energy-file", type=Path, help="keep the energy counter in this file")
    cmd.add_argument("--current", type=float, help="per-phase current (A)")
    cmd.add_argument("--phases", type=int, help="phases carrying the current (1..3)")
    cmd.add_argument("--voltage", type=float, help="phase voltage (V)")
    cmd.add_argument("--power-factor", type=float)
    cmd.add_argument("--frequency", type=float, help="grid frequency (Hz)")
    cmd.add_argument("--fault", choices=METER_FAULTS, help="start with this fault injected")
    cmd.add_argument(
        "--grid-device-id",
        type=int,
        help="also serve the site's grid meter under this unit id on the same line",
    )
    cmd.add_argument("--scenario", help="the grid meter plays this day (a bundled name or a CSV)")
    cmd.add_argument("--speed", type=float, default=60.0, help="scenario seconds per second")
    cmd.add_argument("--start-s", type=float, default=0.0, help="scenario second to start at")


def _options(args: argparse.Namespace) -> EmulatorOptions:
    load = {
        name: value
        for name, value in (
            ("current_a", args.current),
            ("phases", args.phases),
            ("voltage_v", args.voltage),
            ("power_factor", args.power_factor),
            ("frequency_hz", args.frequency),
        )
        if value is not None
    }
    return EmulatorOptions(
        map_name=args.map,
        device_id=args.device_id,
        tcp=args.tcp,
        serial=args.serial,
        pty=args.pty,
        baudrate=args.baud,
        parity=args.parity,
        stop_bits=args.stop_bits,
        control=args.control,
        energy_file=args.energy_file,
        load=load,
        fault=args.fault,
        grid_device_id=args.grid_device_id,
        scenario=args.scenario,
        speed=args.speed,
        start_s=args.start_s,
    )


def _run(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_emulator(_options(args)))
    except EmulatorError as exc:
        print(f"pievse meter-emulator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


COMMAND = Subcommand(names=("meter-emulator",), add=_add, run=_run)
