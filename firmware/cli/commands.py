"""The `pievse` command line: one module a sub-command under `cli/`, each registered in the
table below, in the order `pievse --help` lists them. Bad flags, config or board files: one
line, exit code 2."""

from __future__ import annotations

import argparse
import sys

from pievse.firmware.app.run_options import firmware_version
from pievse.firmware.cli import (
    commission_command,
    config_command,
    demo_command,
    emulator_command,
    flash_pilot_command,
    fleet_commands,
    run_command,
    security_log_command,
    update_guard_command,
)
from pievse.firmware.cli.subcommand import Subcommand
from pievse.firmware.diagnostics.journal_logging import setup_logging

SUBCOMMANDS: tuple[Subcommand, ...] = (
    run_command.COMMAND,
    config_command.COMMAND,
    commission_command.COMMAND,
    emulator_command.COMMAND,
    demo_command.COMMAND,
    fleet_commands.COMMAND,
    security_log_command.COMMAND,
    update_guard_command.COMMAND,
    flash_pilot_command.COMMAND,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pievse", description="AC wallbox controller")
    parser.add_argument("--version", action="version", version=f"pievse {firmware_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    runs = {name: subcommand.run for subcommand in SUBCOMMANDS for name in subcommand.names}
    return runs[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
