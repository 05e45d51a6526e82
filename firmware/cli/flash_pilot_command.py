"""`pievse flash-pilot`: the pilot co-processor's firmware copied onto an RP2040 that runs
MicroPython."""

from __future__ import annotations

import argparse
import sys

from pievse.board.pilot_flash import PILOT_FIRMWARE_VERSION, FlashError, flash_pilot
from pievse.firmware.cli.subcommand import Subcommand, SubParsers


def _add(commands: SubParsers) -> None:
    flash = commands.add_parser(
        "flash-pilot",
        help="copy the pilot co-processor firmware onto an RP2040 running MicroPython",
    )
    flash.add_argument("port", help="the RP2040's serial port, e.g. /dev/ttyACM0")
    flash.add_argument(
        "--no-reset", action="store_true", help="leave the board in its REPL after copying"
    )


def _run(args: argparse.Namespace) -> int:
    try:
        written = flash_pilot(args.port, reset=not args.no_reset)
    except FlashError as exc:
        print(f"pievse flash-pilot: error: {exc}", file=sys.stderr)
        return 2
    print(f"pilot firmware {PILOT_FIRMWARE_VERSION} on {args.port}: {', '.join(written)}")
    return 0


COMMAND = Subcommand(names=("flash-pilot",), add=_add, run=_run)
