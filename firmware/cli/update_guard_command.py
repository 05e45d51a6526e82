"""`pievse update-guard` (systemd ExecStartPre): a firmware update that missed its deadline to
register is rolled back before the box starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from pievse.firmware.app.run_options import DEFAULT_DATA_DIR
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.updates.release_guard import guard
from pievse.firmware.updates.releases import Releases


def _add(commands: SubParsers) -> None:
    guard_cmd = commands.add_parser(
        "update-guard",
        help="roll back a firmware update that missed its deadline (systemd ExecStartPre)",
    )
    guard_cmd.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    guard_cmd.add_argument("--install-root", type=Path, default=Path("/opt/pievse"))


def _run(args: argparse.Namespace) -> int:
    back = guard(args.data_dir, Releases(args.install_root))
    print(f"rolled back to {back}" if back else "nothing to do")
    return 0


COMMAND = Subcommand(names=("update-guard",), add=_add, run=_run)
