"""The `pievse` command line. Bad flags, config or board files: one line, exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from pievse.board.loader import BoardError
from pievse.board.pilot_flash import PILOT_FIRMWARE_VERSION, FlashError, flash_pilot
from pievse.firmware.api.settings_file import roll_back
from pievse.firmware.app.box_lifetime import run
from pievse.firmware.app.run_options import (
    DEFAULT_DATA_DIR,
    FLAG_KEYS,
    RunOptions,
    firmware_version,
    resolve_config,
)
from pievse.firmware.app.wallbox import ApiListenError
from pievse.firmware.clock import SystemClock
from pievse.firmware.config import ConfigError, dump_config, parse_listen
from pievse.firmware.csms.outbox import DurableOutbox
from pievse.firmware.diagnostics.journal_logging import setup_logging
from pievse.firmware.fleet.box_configs import VERSION_CHOICES
from pievse.firmware.fleet.session_plan import SESSION_KINDS
from pievse.firmware.persistence.store import Store, StoreError
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.updates.release_guard import guard
from pievse.firmware.updates.releases import Releases
from pievse.hal.modbus import BAUD_RATES, PARITIES
from pievse.hal.register_map import known_maps
from pievse.hal.sim.meter_emulator import METER_FAULTS
from pievse.hal.sim.meter_emulator_service import EmulatorError, EmulatorOptions, run_emulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pievse", description="AC wallbox controller")
    parser.add_argument("--version", action="version", version=f"pievse {firmware_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    run_options = _run_options()
    run_cmd = commands.add_parser("run", parents=[run_options], help="run the wallbox controller")
    run_cmd.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands.add_parser(
        "config",
        parents=[run_options],
        help="print the configuration `run` would use with these flags (secrets hidden)",
    )
    commands.add_parser(
        "commission",
        parents=[run_options],
        help="run the bring-up checklist against the board (asks the running box, if any)",
    )
    _add_emulator_command(commands)
    demo = commands.add_parser(
        "demo",
        help="a bench box and a small CSMS on loopback, a scripted session, the OCPP timeline",
    )
    demo.add_argument(
        "--no-script", action="store_true", help="start both and leave them running to explore"
    )
    demo.add_argument(
        "--api", type=_listen, default=("127.0.0.1", 8080), help="HOST:PORT of the box's API"
    )
    demo.add_argument(
        "--data-dir", type=Path, help="keep the box's data here (default: a temp dir)"
    )
    demo.add_argument(
        "--pause", type=float, default=1.0, help="seconds between the steps (default 1)"
    )
    _add_fleet_command(commands)
    security_log = commands.add_parser(
        "security-log", help="print (or clear) the security log of a data directory"
    )
    security_log.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"data directory (default {DEFAULT_DATA_DIR})",
    )
    security_log.add_argument(
        "--clear", action="store_true", help="empty it (recorded as SecurityLogWasCleared)"
    )
    guard = commands.add_parser(
        "update-guard",
        help="roll back a firmware update that missed its deadline (systemd ExecStartPre)",
    )
    guard.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    guard.add_argument("--install-root", type=Path, default=Path("/opt/pievse"))
    flash = commands.add_parser(
        "flash-pilot",
        help="copy the pilot co-processor firmware onto an RP2040 running MicroPython",
    )
    flash.add_argument("port", help="the RP2040's serial port, e.g. /dev/ttyACM0")
    flash.add_argument(
        "--no-reset", action="store_true", help="leave the board in its REPL after copying"
    )
    return parser


def _add_fleet_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fleet = commands.add_parser(
        "fleet",
        help="N bench boxes, each the real controller, against one CSMS (load tests)",
    )
    fleet.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    fleet.add_argument("--boxes", type=int, required=True, help="how many (1..5000)")
    fleet.add_argument("--csms", required=True, help="CSMS URL (ws:// or wss://)")
    fleet.add_argument("--sessions", default="scripted", choices=SESSION_KINDS)
    fleet.add_argument("--session-s", type=float, default=300.0, help="a charge's length (s)")
    fleet.add_argument("--idle-s", type=float, default=60.0, help="unplugged between (s)")
    fleet.add_argument("--config", type=Path, help="every box's base configuration (TOML)")
    fleet.add_argument("--data-dir", type=Path, help="keep the boxes' data here (default: temp)")
    fleet.add_argument("--id-prefix", default="fleet-", help="charge point ids: PREFIX0001...")
    fleet.add_argument("--boot-over-s", type=float, help="spread the boots (default N/20 s)")
    fleet.add_argument("--tick-ms", type=int, default=500, help="control loop period")
    fleet.add_argument("--meter-poll-s", type=float, default=10.0, help="meter poll period")
    fleet.add_argument("--meter-values-s", type=int, default=10, help="MeterValueSampleInterval")
    fleet.add_argument("--duration-s", type=float, help="stop after this long (default: a signal)")
    fleet.add_argument("--seed", type=int, default=1, help="for the boot spread and sessions")
    fleet.add_argument("--site", help="the boxes share one site's supply under this id")
    fleet.add_argument("--mqtt", help="with --site: the site's broker, mqtt://HOST[:PORT]")
    fleet.add_argument("--main-fuse-a", type=float, default=32.0, help="with --site")
    fleet.add_argument("--max-boxes", type=int, help="with --site (default: --boxes)")
    fleet.add_argument(
        "--ocpp", choices=VERSION_CHOICES, help="the boxes' OCPP version (default: --config's)"
    )
    fleet.add_argument("--faulty-share", type=float, default=0.0, help="share of faulty boxes")
    fleet.add_argument(
        "--reconnect-storm-s", type=float, help="every box reconnects this long after booting"
    )
    fleet.add_argument("--processes", type=int, default=1, help="spread over N processes")
    fleet.add_argument("--shard", default="0/1", help="I/N: this machine's share of the boxes")
    fleet.add_argument("--summary", type=Path, help="write the report here as JSON")
    fleet.add_argument("--metrics", help="HOST:PORT: serve the report as Prometheus text")
    merge = commands.add_parser(
        "fleet-merge", help="add up the --summary files of a fleet's shards into one report"
    )
    merge.add_argument("files", nargs="+", type=Path, help="the shards' summaries")
    merge.add_argument("--summary", type=Path, help="write the merged report here as JSON")


def _run_options() -> argparse.ArgumentParser:
    """The flags of `run`, shared with `config`: each overrides one key of the config file."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--board", default="bench-sim", help="bundled board name or board file path"
    )
    options.add_argument("--config", type=Path, help="configuration file (TOML)")
    overrides = {option: f"overrides {named}" for option, (_, named) in FLAG_KEYS.items()}
    options.add_argument("--csms", help=f"CSMS URL (ws:// or wss://), {overrides['csms']}")
    options.add_argument(
        "--id", dest="charge_point_id", help=f"charge point id, {overrides['charge_point_id']}"
    )
    options.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"data directory (default {DEFAULT_DATA_DIR})",
    )
    options.add_argument(
        "--api", help=f"local API HOST:PORT, {overrides['api']} (default 127.0.0.1:8080)"
    )
    return options


def _listen(value: str) -> tuple[str, int]:
    address = parse_listen(value)
    if address is None:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return address


def _add_emulator_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        type=_listen,
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
        "--control", type=_listen, help="HTTP control HOST:PORT (GET/PUT /load, PUT /fault)"
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


def _emulator_options(args: argparse.Namespace) -> EmulatorOptions:
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


def _run_emulator(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_emulator(_emulator_options(args)))
    except EmulatorError as exc:
        print(f"pievse meter-emulator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pievse.firmware.demo.session_script import DemoFailed, DemoOptions, run_demo

    if not args.verbose:  # the timeline is the output; the log says only what goes wrong
        logging.getLogger().setLevel(logging.WARNING)
    if not 0 <= args.pause <= 60:
        print(f"pievse demo: error: --pause: expected 0..60 s, got {args.pause}", file=sys.stderr)
        return 2
    host, port = args.api
    options = DemoOptions(not args.no_script, f"{host}:{port}", args.data_dir, args.pause)
    try:
        asyncio.run(run_demo(options, lambda line: print(line, flush=True)))
    except DemoFailed as exc:
        print(f"pievse demo: failed: {exc}", file=sys.stderr)
        return 1
    except ApiListenError as exc:
        print(f"pievse demo: error: --api: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _fleet(args: argparse.Namespace) -> int:
    from pievse.firmware.fleet.fleet_command import FleetArgumentError, merge_summaries, run_fleet

    try:
        if args.command == "fleet-merge":
            return merge_summaries(args.files, args.summary, print)
        return run_fleet(args, lambda line: print(line, flush=True))
    except FleetArgumentError as exc:
        print(f"pievse {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _security_log(args: argparse.Namespace) -> int:
    """Reads the database beside a running box (WAL readers do not block it). A clearing
    while the box runs reaches the CSMS at its next start, when the outbox is read."""
    path = args.data_dir / "pievse.db"
    if not path.exists():
        print(f"pievse security-log: error: --data-dir: no database at {path}", file=sys.stderr)
        return 2
    try:
        store = Store(path)
    except StoreError as exc:
        print(f"pievse security-log: error: {exc}", file=sys.stderr)
        return 2
    try:
        sender = DurableOutbox(store).put if args.clear else None
        security_log = SecurityLog(store, SystemClock(), sender=sender)
        if args.clear:
            security_log.clear()
        for event in security_log.events():
            print(event.line())
    finally:
        store.close()
    return 0


def _commission(options: RunOptions) -> int:
    from pievse.firmware.app.commissioning_wiring import CommissionFailed, commission

    try:
        return asyncio.run(commission(options, lambda text: print(text, flush=True)))
    except (BoardError, ConfigError, StoreError) as exc:
        print(f"pievse commission: error: {exc}", file=sys.stderr)
        return 2
    except (CommissionFailed, ApiListenError) as exc:
        print(f"pievse commission: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _flash_pilot(args: argparse.Namespace) -> int:
    try:
        written = flash_pilot(args.port, reset=not args.no_reset)
    except FlashError as exc:
        print(f"pievse flash-pilot: error: {exc}", file=sys.stderr)
        return 2
    print(f"pilot firmware {PILOT_FIRMWARE_VERSION} on {args.port}: {', '.join(written)}")
    return 0


def _settings_refused(options: RunOptions, exc: ConfigError) -> None:
    """Settings written over the local API that keep the box from starting (a security
    profile without its certificate, MQTT without its extra) would leave it unreachable, and
    the page with it: the previous file comes back and the box starts again on it. Not when
    the file or a flag fails its own checks (a flag given by hand is no settings change)."""
    try:
        resolve_config(options)
    except ConfigError:
        return
    refused = None if options.config is None else roll_back(options.config, str(exc))
    if refused is None:
        return
    log = logging.getLogger(__name__)
    log.error(
        "the settings changed over the local API keep the box from starting (%s): it starts "
        "again with the previous config file; the refused one is %s",
        exc,
        refused,
    )
    logging.shutdown()
    os.execv(sys.executable, sys.orig_argv)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.command == "meter-emulator":
        return _run_emulator(args)
    if args.command == "demo":
        return _demo(args)
    if args.command in ("fleet", "fleet-merge"):
        return _fleet(args)
    if args.command == "flash-pilot":
        return _flash_pilot(args)
    if args.command == "security-log":
        return _security_log(args)
    if args.command == "update-guard":
        back = guard(args.data_dir, Releases(args.install_root))
        print(f"rolled back to {back}" if back else "nothing to do")
        return 0
    options = RunOptions(
        board=args.board,
        config=args.config,
        csms=args.csms,
        charge_point_id=args.charge_point_id,
        data_dir=args.data_dir,
        api=args.api,
    )
    if args.command == "commission":
        return _commission(options)
    if args.command == "config":
        try:
            print(dump_config(resolve_config(options)), end="")
        except ConfigError as exc:
            print(f"pievse: error: {exc}", file=sys.stderr)
            return 2
        return 0
    # What the unit's UMask= gives: everything the box writes (database, keys, log,
    # downloads) is the service user's only, also when started from a shell.
    os.umask(0o077)
    try:
        reset = asyncio.run(run(options))
    except ConfigError as exc:
        _settings_refused(options, exc)
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    except (BoardError, StoreError) as exc:
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    except ApiListenError as exc:
        print(f"pievse: error: --api: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if reset is None:
        return 0
    log = logging.getLogger(__name__)
    if reset.kind == "Firmware" and os.environ.get("NOTIFY_SOCKET"):
        log.warning("exiting for systemd to start the release now current")
        return 0
    logging.shutdown()
    if reset.executable is not None:
        # Not under systemd: start the new release's program, same arguments, same PID.
        os.execv(reset.executable, [reset.executable, *sys.argv[1:]])
    # A CSMS Reset restarts the whole process: same interpreter, same command line.
    log.warning("%s reset: restarting the process", reset.kind)
    os.execv(sys.executable, sys.orig_argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
