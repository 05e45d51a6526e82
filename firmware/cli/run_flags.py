"""The flags of `run`, shared with `config` and `commission`: each overrides one key of the
config file."""

from __future__ import annotations

import argparse
from pathlib import Path

from pievse.firmware.app.run_options import DEFAULT_DATA_DIR, FLAG_KEYS, RunOptions


def run_flags() -> argparse.ArgumentParser:
    """The parent parser a sub-command that runs a box takes its flags from."""
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


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        board=args.board,
        config=args.config,
        csms=args.csms,
        charge_point_id=args.charge_point_id,
        data_dir=args.data_dir,
        api=args.api,
    )
