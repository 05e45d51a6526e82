"""`pievse fleet`: N bench boxes, each the real controller, against one CSMS (load tests),
and `pievse fleet-merge`, which adds up the reports of a fleet's shards. The fleet itself is
`firmware.fleet`'s, imported only when asked for."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.fleet.box_configs import VERSION_CHOICES
from pievse.firmware.fleet.session_plan import SESSION_KINDS


def _add(commands: SubParsers) -> None:
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


def _run(args: argparse.Namespace) -> int:
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


COMMAND = Subcommand(names=("fleet", "fleet-merge"), add=_add, run=_run)
