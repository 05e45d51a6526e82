"""`pievse fleet`'s flags made into a fleet, run until a signal or `--duration-s`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

from pievse.firmware.config import ConfigError, load_config
from pievse.firmware.fleet.box_configs import FleetSite, FleetTiming
from pievse.firmware.fleet.fleet import Fleet, FleetOptions
from pievse.firmware.fleet.session_plan import SessionShape

MAX_BOXES = 5000
SAME_MESSAGE_SHOWN = 3


class RepeatedMessages(logging.Filter):
    """A fleet's boxes say the same things: each message (by its format) is shown a few
    times, then once more to say the rest are not."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        seen = self._seen.get(key, 0) + 1
        self._seen[key] = seen
        if seen == SAME_MESSAGE_SHOWN + 1:
            record.msg = f"{record.msg} (further messages like this one are not shown)"
        return seen <= SAME_MESSAGE_SHOWN + 1


class FleetArgumentError(ValueError):
    pass


def fleet_options(args: argparse.Namespace, data_dir: Path) -> FleetOptions:
    if not 1 <= args.boxes <= MAX_BOXES:
        raise FleetArgumentError(f"--boxes: expected 1..{MAX_BOXES}, got {args.boxes}")
    for flag, value, low in (
        ("--session-s", args.session_s, 1.0),
        ("--idle-s", args.idle_s, 1.0),
        ("--meter-values-s", args.meter_values_s, 1),
    ):
        if value < low:
            raise FleetArgumentError(f"{flag}: expected at least {low:g}, got {value:g}")
    if args.boot_over_s is not None and args.boot_over_s < 0:
        raise FleetArgumentError(f"--boot-over-s: expected 0 or more, got {args.boot_over_s}")
    site = None
    if args.site is not None:
        if args.mqtt is None:
            raise FleetArgumentError("--site: the boxes share a site over --mqtt URL")
        site = FleetSite(args.site, args.mqtt, args.main_fuse_a, args.max_boxes or args.boxes)
    elif args.mqtt is not None:
        raise FleetArgumentError("--mqtt: only with --site")
    try:
        base = load_config(args.config)
    except ConfigError as exc:
        raise FleetArgumentError(str(exc)) from None
    options = FleetOptions(
        boxes=args.boxes,
        csms_url=args.csms,
        data_dir=data_dir,
        base=base,
        sessions=args.sessions,
        shape=SessionShape(args.session_s, args.idle_s),
        id_prefix=args.id_prefix,
        boot_over_s=args.boot_over_s,
        timing=FleetTiming(args.tick_ms, args.meter_poll_s),
        meter_values_s=args.meter_values_s,
        site=site,
        seed=args.seed,
    )
    try:
        Fleet(options, lambda _line: None).configs()
    except ConfigError as exc:
        raise FleetArgumentError(str(exc)) from None
    return options


def run_fleet(args: argparse.Namespace, report: Callable[[str], None]) -> int:
    repeated = RepeatedMessages()
    for handler in logging.getLogger().handlers:
        handler.addFilter(repeated)
    with tempfile.TemporaryDirectory(prefix="pievse-fleet-") as temporary:
        data_dir = args.data_dir or Path(temporary)
        fleet = Fleet(fleet_options(args, data_dir), report)
        asyncio.run(_until_stopped(fleet, args.duration_s))
    return 0


async def _until_stopped(fleet: Fleet, duration_s: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if duration_s is not None:
        loop.call_later(duration_s, stop.set)
    await fleet.run(stop)
