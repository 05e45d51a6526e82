"""`pievse commission`: the bring-up checklist against the board, asked of the box that runs
with this configuration or run in one started for it."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pievse.board.loader import BoardError
from pievse.firmware.app.wallbox import ApiListenError
from pievse.firmware.cli.run_flags import run_flags, run_options
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.config import ConfigError
from pievse.firmware.persistence.store import StoreError


def _add(commands: SubParsers) -> None:
    commands.add_parser(
        "commission",
        parents=[run_flags()],
        help="run the bring-up checklist against the board (asks the running box, if any)",
    )


def _commission(args: argparse.Namespace) -> int:
    from pievse.firmware.app.commissioning_wiring import CommissionFailed, commission

    options = run_options(args)
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


COMMAND = Subcommand(names=("commission",), add=_add, run=_commission)
