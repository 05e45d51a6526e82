"""`pievse config`: the configuration `run` would use with the same flags, secrets hidden."""

from __future__ import annotations

import argparse
import sys

from pievse.firmware.app.run_options import resolve_config
from pievse.firmware.cli.run_flags import run_flags, run_options
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.config import ConfigError, dump_config


def _add(commands: SubParsers) -> None:
    commands.add_parser(
        "config",
        parents=[run_flags()],
        help="print the configuration `run` would use with these flags (secrets hidden)",
    )


def _print(args: argparse.Namespace) -> int:
    try:
        print(dump_config(resolve_config(run_options(args))), end="")
    except ConfigError as exc:
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    return 0


COMMAND = Subcommand(names=("config",), add=_add, run=_print)
