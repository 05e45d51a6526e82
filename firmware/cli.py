"""The `pievse` command line. Bad flags, config or board files: one line, exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from board.loader import BoardError
from firmware.app import DEFAULT_DATA_DIR, ApiListenError, RunOptions, run
from firmware.config import ConfigError
from firmware.journal_logging import setup_logging
from firmware.store import StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pievse", description="AC wallbox controller")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="run the wallbox controller")
    run_cmd.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run_cmd.add_argument(
        "--board", default="bench-sim", help="bundled board name or board file path"
    )
    run_cmd.add_argument("--config", type=Path, help="configuration file (TOML)")
    run_cmd.add_argument("--csms", help="CSMS URL (ws:// or wss://), overrides the config")
    run_cmd.add_argument(
        "--id", dest="charge_point_id", help="charge point id, overrides the config"
    )
    run_cmd.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"data directory (default {DEFAULT_DATA_DIR})",
    )
    run_cmd.add_argument("--api", help="local API HOST:PORT (default 127.0.0.1:8080)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    options = RunOptions(
        board=args.board,
        config=args.config,
        csms=args.csms,
        charge_point_id=args.charge_point_id,
        data_dir=args.data_dir,
        api=args.api,
    )
    try:
        reset = asyncio.run(run(options))
    except (BoardError, ConfigError, StoreError) as exc:
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    except ApiListenError as exc:
        print(f"pievse: error: --api: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if reset is not None:
        # A CSMS Reset restarts the whole process: same interpreter, same command line.
        logging.getLogger(__name__).warning("%s reset: restarting the process", reset)
        logging.shutdown()
        os.execv(sys.executable, sys.orig_argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
