"""`pievse security-log`: the security log of a data directory, printed or cleared."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pievse.firmware.app.run_options import DEFAULT_DATA_DIR
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.clock import SystemClock
from pievse.firmware.csms.outbox import DurableOutbox
from pievse.firmware.persistence.store import Store, StoreError
from pievse.firmware.security.security_log import SecurityLog


def _add(commands: SubParsers) -> None:
    security_log = commands.add_parser(
        "security-log", help="print (or clear) the security log of a data directory"
    )
    security_log.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"data directory (default {DEFAULT_DATA_DIR})",
    )
    security_log.add_argument(
        "--clear", action="store_true", help="empty it (recorded as SecurityLogWasCleared)"
    )


def _run(args: argparse.Namespace) -> int:
    """Reads the database beside a running box (WAL readers do not block it). A clearing
    while the box runs reaches the CSMS at its next start, when the outbox is read."""
    path = args.data_dir / "pievse.db"
    if not path.exists():
        print(f"pievse security-log: error: --data-dir: no database at {path}", file=sys.stderr)
        return 2
    try:
        store = Store(path)
    except StoreError as exc:
        print(f"pievse security-log: error: {exc}", file=sys.stderr)
        return 2
    try:
        sender = DurableOutbox(store).put if args.clear else None
        security_log = SecurityLog(store, SystemClock(), sender=sender)
        if args.clear:
            security_log.clear()
        for event in security_log.events():
            print(event.line())
    finally:
        store.close()
    return 0


COMMAND = Subcommand(names=("security-log",), add=_add, run=_run)
