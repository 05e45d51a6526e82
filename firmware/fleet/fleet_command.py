"""`pievse fleet`'s flags made into a fleet (in this process, or in `--processes` shards),
run until a signal or `--duration-s`; and `pievse fleet-merge`, which adds up the summaries
of a fleet's shards run on several machines."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

from pievse.firmware.config import ConfigError, load_config, parse_listen
from pievse.firmware.fleet.box_configs import FleetSite, FleetTiming, parse_shard
from pievse.firmware.fleet.fleet import Fleet, FleetOptions
from pievse.firmware.fleet.fleet_output import FleetOutput, serve_metrics, write_summary
from pievse.firmware.fleet.fleet_processes import ShardedRun
from pievse.firmware.fleet.fleet_report import merged, read_summary
from pievse.firmware.fleet.repeated_messages import quiet_fleet_logging
from pievse.firmware.fleet.report_rendering import report_lines
from pievse.firmware.fleet.session_plan import SessionShape
from pievse.firmware.fleet.stop_signals import stop_on_signals, until_stopped

MAX_BOXES = 5000
MAX_PROCESSES = 64


class FleetArgumentError(ValueError):
    pass


def _check_numbers(args: argparse.Namespace) -> None:
    if not 1 <= args.boxes <= MAX_BOXES:
        raise FleetArgumentError(f"--boxes: expected 1..{MAX_BOXES}, got {args.boxes}")
    if not 1 <= args.processes <= MAX_PROCESSES:
        raise FleetArgumentError(f"--processes: expected 1..{MAX_PROCESSES}, got {args.processes}")
    for flag, value, low in (
        ("--session-s", args.session_s, 1.0),
        ("--idle-s", args.idle_s, 1.0),
        ("--meter-values-s", args.meter_values_s, 1),
    ):
        if not value >= low:  # also NaN
            raise FleetArgumentError(f"{flag}: expected at least {low:g}, got {value:g}")
    if args.boot_over_s is not None and not args.boot_over_s >= 0:
        raise FleetArgumentError(f"--boot-over-s: expected 0 or more, got {args.boot_over_s}")
    if not 0 <= args.faulty_share <= 1:
        raise FleetArgumentError(f"--faulty-share: expected 0..1, got {args.faulty_share}")
    if args.reconnect_storm_s is not None and not args.reconnect_storm_s >= 0:
        raise FleetArgumentError(
            f"--reconnect-storm-s: expected 0 or more, got {args.reconnect_storm_s}"
        )
    if args.metrics is not None and parse_listen(args.metrics) is None:
        raise FleetArgumentError(f"--metrics: expected HOST:PORT, got {args.metrics!r}")


def fleet_options(args: argparse.Namespace, data_dir: Path) -> FleetOptions:
    _check_numbers(args)
    try:
        shard = parse_shard(args.shard)
    except ValueError as exc:
        raise FleetArgumentError(f"--shard: {exc}") from None
    site = None
    if args.site is not None:
        if args.mqtt is None:
            raise FleetArgumentError("--site: the boxes share a site over --mqtt URL")
        site = FleetSite(args.site, args.mqtt, args.main_fuse_a, args.max_boxes or args.boxes)
    elif args.mqtt is not None:
        raise FleetArgumentError("--mqtt: only with --site")
    try:
        base = load_config(args.config)
    except ConfigError as exc:
        raise FleetArgumentError(str(exc)) from None
    options = FleetOptions(
        boxes=args.boxes,
        csms_url=args.csms,
        data_dir=data_dir,
        base=base,
        sessions=args.sessions,
        shape=SessionShape(args.session_s, args.idle_s),
        id_prefix=args.id_prefix,
        boot_over_s=args.boot_over_s,
        timing=FleetTiming(args.tick_ms, args.meter_poll_s),
        meter_values_s=args.meter_values_s,
        site=site,
        seed=args.seed,
        shard=shard,
        ocpp_version=args.ocpp,
        faulty_share=args.faulty_share,
        reconnect_storm_s=args.reconnect_storm_s,
    )
    try:
        Fleet(options, lambda _report: None).configs()
    except ConfigError as exc:
        raise FleetArgumentError(str(exc)) from None
    return options


def run_fleet(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    quiet_fleet_logging(args.verbose)
    with tempfile.TemporaryDirectory(prefix="pievse-fleet-") as temporary:
        options = fleet_options(args, args.data_dir or Path(temporary))
        output = FleetOutput(say, args.summary)
        asyncio.run(_run(options, args, output))
    return 0


async def _run(options: FleetOptions, args: argparse.Namespace, output: FleetOutput) -> None:
    runner = None
    if args.metrics is not None:
        listen = parse_listen(args.metrics)
        assert listen is not None, "checked with the flags"
        runner = await serve_metrics(output, *listen)
    try:
        if args.processes > 1:
            stop = stop_on_signals()
            await ShardedRun(options, args.processes, output).run(stop, args.duration_s)
        else:
            await until_stopped(Fleet(options, output), args.duration_s)
    finally:
        if runner is not None:
            await runner.cleanup()


def merge_summaries(files: list[Path], summary: Path | None, say: Callable[[str], None]) -> int:
    """`pievse fleet-merge`: the shards' summaries as one fleet's (exit 2 naming a bad file)."""
    reports = []
    for path in files:
        try:
            reports.append(read_summary(path.read_text(), str(path)))
        except OSError as exc:
            raise FleetArgumentError(f"{path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise FleetArgumentError(str(exc)) from None
    total = merged(reports)
    for line in report_lines(total):
        say(line)
    if summary is not None:
        write_summary(summary, total)
    return 0
