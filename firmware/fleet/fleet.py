"""N bench boxes in one process, each the real controller (its own id, data directory,
plant, meter emulator and OCPP link; their meters served on a few shared Modbus servers, not
one a box), booted over a spread of time so a CSMS is not stormed, each EV following its
session steps; a report every 10 s and at the end of what the CSMS did and of the fleet's
own load. A box that fails to start is counted and logged; the others go on.

The fleet watches its own loop: a box's timings are only the CSMS's while the loop runs on
time. Boots wait while it lags (the boxes already running come first), and a run whose loop
lagged past `OVERLOAD_LAG_S`, or whose in-process meters timed out, is marked overloaded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pievse.firmware.app.heap_trim import freeze_start_up_heap, keep_heap_trimmed, trim_heap
from pievse.firmware.app.process_share import ProcessShare
from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.config import Config
from pievse.firmware.control.faults import Fault
from pievse.firmware.csms.key_table import METER_VALUE_SAMPLE_INTERVAL
from pievse.firmware.fleet.box_configs import (
    FleetSite,
    FleetTiming,
    Shard,
    box_config,
    box_id,
    box_version,
)
from pievse.firmware.fleet.fleet_report import OVERLOAD_LAG_S, BoxCounts, FleetReport, OwnLoad
from pievse.firmware.fleet.fleet_traffic import BoxTraffic, FleetTraffic
from pievse.firmware.fleet.loop_lag import LoopLag
from pievse.firmware.fleet.session_plan import SessionShape, Step, session_steps

log = logging.getLogger(__name__)
REPORT_EVERY_S = 10.0
STOP_AT_ONCE = 50
"""Boxes stopped together at the end (each drains its outbox for a moment)."""
FILES_PER_BOX = 16
BOOT_WHILE_LAG_BELOW_S = OVERLOAD_LAG_S
"""A boot waits while the loop is this late: the boxes already running come first. (Below
it, a late loop is mostly other processes on the machine, which waiting would not help.)"""
FAULTS = ("overtemperature", "rcd")
"""What a faulty box shows, by turns: one that clears itself, one latched until unplug."""


@dataclass(frozen=True)
class FleetOptions:
    boxes: int
    csms_url: str
    data_dir: Path
    base: Config = field(default_factory=Config)
    sessions: str = "scripted"
    shape: SessionShape = field(default_factory=SessionShape)
    id_prefix: str = "fleet-"
    boot_over_s: float | None = None
    """None: a twentieth of a second per box."""
    timing: FleetTiming = field(default_factory=FleetTiming)
    meter_values_s: int = 10
    site: FleetSite | None = None
    seed: int = 1
    board: str = "bench-fleet"
    shard: Shard = field(default_factory=Shard)
    ocpp_version: str | None = None
    """"1.6", "2.0.1", "mixed" (by turns) or None: as the base configuration says."""
    faulty_share: float = 0.0
    """This share of the boxes shows a bench fault in every charge."""
    reconnect_storm_s: float | None = None
    """This long after the last boot, every box drops its connection and reconnects."""


class Fleet:
    def __init__(
        self,
        options: FleetOptions,
        report: Callable[[FleetReport], None],
        share: ProcessShare | None = None,
    ) -> None:
        """`share`: what its boxes share (by default one meter line for all of them)."""
        self._options = options
        self._share = ProcessShare() if share is None else share
        self._report = report
        self.boxes: list[Wallbox] = []
        self.traffic = FleetTraffic()
        self.lag = LoopLag()
        self._started_at = time.monotonic()
        self._counts = BoxCounts(planned=len(options.shard.indices(options.boxes)))
        self._overloaded = False
        self._tasks: list[asyncio.Task[None]] = []

    def configs(self) -> list[tuple[int, Config]]:
        """Each of this shard's boxes (by index) with its configuration, checked before any
        box starts."""
        o = self._options
        return [
            (
                i,
                box_config(
                    o.base,
                    box_id(o.id_prefix, i),
                    o.csms_url,
                    o.timing,
                    o.site,
                    box_version(o.ocpp_version, i),
                ),
            )
            for i in o.shard.indices(o.boxes)
        ]

    async def run(self, stop: asyncio.Event) -> None:
        o = self._options
        configs = self.configs()
        _allow_open_files(FILES_PER_BOX * len(configs))
        spread = o.boxes / 20 if o.boot_over_s is None else o.boot_over_s
        rng = random.Random(o.seed)
        self._started_at = started = time.monotonic()
        background = [
            asyncio.create_task(self.lag.run(), name="fleet-lag"),
            asyncio.create_task(self._report_every(), name="fleet-report"),
            asyncio.create_task(keep_heap_trimmed(), name="heap-trim"),
        ]
        try:
            for n, (index, config) in enumerate(configs):
                at = started + spread * (n + rng.random()) / len(configs)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, at - time.monotonic())):
                        await stop.wait()
                if stop.is_set():
                    break
                await self.lag.calm(BOOT_WHILE_LAG_BELOW_S)
                await self._start(index, config)
            trim_heap()  # once for the whole fleet: each box skipped its own
            if o.reconnect_storm_s is not None and not stop.is_set():
                background.append(asyncio.create_task(self._reconnect_storm(o.reconnect_storm_s)))
            await stop.wait()
        finally:
            for task in (*background, *self._tasks):
                task.cancel()
            await asyncio.gather(*background, *self._tasks, return_exceptions=True)
            self._report(self.report())
            await self._stop_all()
            await self._share.close()

    async def _start(self, index: int, config: Config) -> None:
        o = self._options
        name = config.charge_point.id
        options = RunOptions(board=o.board, data_dir=o.data_dir / name, api="127.0.0.1:0")
        try:
            box = Wallbox(
                options,
                config=config,
                traffic=BoxTraffic(self.traffic),
                shares_process=self._share,
            )
            box.keys.set(METER_VALUE_SAMPLE_INTERVAL, str(o.meter_values_s), notify=False)
            await box.start()
        except Exception:
            self._counts.failed += 1
            log.exception("fleet box %s did not start", name)
            return
        # A started box lives as long as the fleet: out of the collector's generations, a
        # full collection over a thousand boxes' objects no longer stalls every box's loop
        # for most of a second (the lag that would mark the run overloaded).
        freeze_start_up_heap()
        self.boxes.append(box)
        self._counts.started += 1
        faulty = _is_faulty(index, o.faulty_share, o.seed)
        fault = FAULTS[index % len(FAULTS)] if faulty else None
        seed = o.seed * 100_003 + index
        steps = session_steps(o.sessions, f"TAG-{name}"[:20], o.shape, seed, fault)
        self._tasks.append(asyncio.create_task(self._drive(box, steps), name=f"ev-{name}"))

    async def _drive(self, box: Wallbox, steps: Iterator[Step]) -> None:
        bench = box.board.bench
        assert bench is not None, "a fleet runs on a simulated board"
        plugged = False
        for step in steps:
            await asyncio.sleep(step.delay_s)
            if step.action == "tag":
                bench.present_tag(step.value)
                continue
            if step.action in ("fault", "clear"):
                bench.set_fault(step.value, step.action == "fault")
                continue
            bench.set_ev(step.value, None, None)
            if not plugged and step.value != "A":
                self._counts.plug_ins += 1
            plugged = step.value != "A"

    async def _reconnect_storm(self, after_s: float) -> None:
        await asyncio.sleep(after_s)
        log.warning("reconnect storm: every box drops its connection to the CSMS")
        for box in self.boxes:
            if box.ocpp is not None:
                box.ocpp.csms.reconnect()

    async def _report_every(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            self._report(self.report())

    def report(self) -> FleetReport:
        """Now: the boxes, what the CSMS did, and the fleet's own load; an interval whose
        loop lagged past OVERLOAD_LAG_S marks the whole run overloaded."""
        counts = BoxCounts(
            planned=self._counts.planned,
            started=self._counts.started,
            failed=self._counts.failed,
            plug_ins=self._counts.plug_ins,
        )
        meter_timeouts = 0
        for box in self.boxes:
            controller = box.controller
            counts.registered += int(box.ocpp is not None and box.ocpp.csms.accepted)
            counts.charging += int(controller.connector_status().status == "Charging")
            faults = controller.supervisor.faults()
            counts.faulted += int(bool(faults))
            counts.meter_offline += int(Fault.METER_OFFLINE in faults)
            meter_timeouts += dict(controller.state.meter.errors).get("timeout", 0)
        lagged = self.lag.new_interval().percentile_s(0.99) or 0.0
        if lagged > OVERLOAD_LAG_S or meter_timeouts:
            if not self._overloaded:
                log.warning(
                    "the fleet is overloaded (loop late by %.1f s, %d meter timeouts): what "
                    "its boxes report now is the fleet's doing, not the CSMS's",
                    lagged,
                    meter_timeouts,
                )
            self._overloaded = True
        usage = resource.getrusage(resource.RUSAGE_SELF)
        own = OwnLoad(
            usage.ru_utime + usage.ru_stime,
            _rss_mb(),
            self.lag.total,
            meter_timeouts,
            self._overloaded,
        )
        elapsed = time.monotonic() - self._started_at
        return FleetReport(elapsed, 1, counts, self.traffic, own)

    async def _stop_all(self) -> None:
        boxes, self.boxes = self.boxes, []
        for i in range(0, len(boxes), STOP_AT_ONCE):
            await asyncio.gather(*(b.stop() for b in boxes[i : i + STOP_AT_ONCE]))


def _is_faulty(index: int, share: float, seed: int) -> bool:
    """The same boxes for the same seed, about `share` of them."""
    return share > 0 and random.Random(seed * 7_919 + index).random() < share


def _rss_mb() -> float:
    """Now (Linux), or the peak where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 1_048_576
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _allow_open_files(wanted: int) -> None:
    """Each box holds a few sockets and its database's files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
