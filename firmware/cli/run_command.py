"""`pievse run`: the wallbox controller, until a signal or a restart. A restart is carried
out here, where the process is: systemd starts a new release, otherwise the process starts
itself again (a new release's program, or the same command line)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from pievse.board.loader import BoardError
from pievse.firmware.api.settings_file import roll_back
from pievse.firmware.app.box_lifetime import Restart, run
from pievse.firmware.app.run_options import RunOptions, resolve_config
from pievse.firmware.app.wallbox import ApiListenError
from pievse.firmware.cli.run_flags import run_flags, run_options
from pievse.firmware.cli.subcommand import Subcommand, SubParsers
from pievse.firmware.config import ConfigError
from pievse.firmware.persistence.store import StoreError

log = logging.getLogger(__name__)


def _add(commands: SubParsers) -> None:
    run_cmd = commands.add_parser("run", parents=[run_flags()], help="run the wallbox controller")
    run_cmd.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _run(args: argparse.Namespace) -> int:
    options = run_options(args)
    # What the unit's UMask= gives: everything the box writes (database, keys, log,
    # downloads) is the service user's only, also when started from a shell.
    os.umask(0o077)
    try:
        reset = asyncio.run(run(options))
    except ConfigError as exc:
        _settings_refused(options, exc)
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    except (BoardError, StoreError) as exc:
        print(f"pievse: error: {exc}", file=sys.stderr)
        return 2
    except ApiListenError as exc:
        print(f"pievse: error: --api: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0 if reset is None else _restart(reset)


def _restart(reset: Restart) -> int:
    if reset.kind == "Firmware" and os.environ.get("NOTIFY_SOCKET"):
        log.warning("exiting for systemd to start the release now current")
        return 0
    logging.shutdown()
    if reset.executable is not None:
        # Not under systemd: start the new release's program, same arguments, same PID.
        os.execv(reset.executable, [reset.executable, *sys.argv[1:]])
    # A CSMS Reset restarts the whole process: same interpreter, same command line.
    log.warning("%s reset: restarting the process", reset.kind)
    os.execv(sys.executable, sys.orig_argv)
    return 0


def _settings_refused(options: RunOptions, exc: ConfigError) -> None:
    """Settings written over the local API that keep the box from starting (a security
    profile without its certificate, MQTT without its extra) would leave it unreachable, and
    the page with it: the previous file comes back and the box starts again on it. Not when
    the file or a flag fails its own checks (a flag given by hand is no settings change)."""
    try:
        resolve_config(options)
    except ConfigError:
        return
    refused = None if options.config is None else roll_back(options.config, str(exc))
    if refused is None:
        return
    log.error(
        "the settings changed over the local API keep the box from starting (%s): it starts "
        "again with the previous config file; the refused one is %s",
        exc,
        refused,
    )
    logging.shutdown()
    os.execv(sys.executable, sys.orig_argv)


COMMAND = Subcommand(names=("run",), add=_add, run=_run)
