"""`pievse demo`: a bench box and a small CSMS on loopback, a scripted session and the OCPP
timeline it makes (the demo itself is `firmware.demo`'s, imported only when asked for)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pievse.firmware.app.wallbox import ApiListenError
from pievse.firmware.cli.address_flag import listen_address
from pievse.firmware.cli.subcommand import Subcommand, SubParsers


def _add(commands: SubParsers) -> None:
    demo = commands.add_parser(
        "demo",
        help="a bench box and a small CSMS on loopback, a scripted session, the OCPP timeline",
    )
    demo.add_argument(
        "--no-script", action="store_true", help="start both and leave them running to explore"
    )
    demo.add_argument(
        "--api", type=listen_address, default=("127.0.0.1", 8080), help="HOST:PORT of the box's API"
    )
    demo.add_argument(
        "--data-dir", type=Path, help="keep the box's data here (default: a temp dir)"
    )
    demo.add_argument(
        "--pause", type=float, default=1.0, help="seconds between the steps (default 1)"
    )


def _run(args: argparse.Namespace) -> int:
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


COMMAND = Subcommand(names=("demo",), add=_add, run=_run)
