"""N bench boxes in one process, each the real controller (its own id, data directory,
plant, meter emulator and OCPP link), booted over a spread of time so a CSMS is not stormed,
each EV following its session steps. A box that fails to start is counted and logged; the
others go on."""

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

from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.config import Config
from pievse.firmware.fleet.box_configs import FleetSite, FleetTiming, box_config, box_id
from pievse.firmware.fleet.session_plan import SessionShape, Step, session_steps

log = logging.getLogger(__name__)
REPORT_EVERY_S = 10.0
STOP_AT_ONCE = 50
"""Boxes stopped together at the end (each drains its outbox for a moment)."""
FILES_PER_BOX = 16


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
    board: str = "bench-sim"


@dataclass
class FleetCounts:
    started: int = 0
    failed: int = 0
    plug_ins: int = 0


class Fleet:
    def __init__(self, options: FleetOptions, report: Callable[[str], None]) -> None:
        self._options = options
        self._report = report
        self.boxes: list[Wallbox] = []
        self.counts = FleetCounts()
        self._tasks: list[asyncio.Task[None]] = []

    def configs(self) -> list[Config]:
        """Every box's configuration, checked before any box starts."""
        o = self._options
        return [
            box_config(o.base, box_id(o.id_prefix, i), o.csms_url, o.timing, o.site)
            for i in range(o.boxes)
        ]

    async def run(self, stop: asyncio.Event) -> None:
        o = self._options
        configs = self.configs()
        _allow_open_files(FILES_PER_BOX * o.boxes)
        spread = o.boxes / 20 if o.boot_over_s is None else o.boot_over_s
        rng = random.Random(o.seed)
        started = time.monotonic()
        reporter = asyncio.create_task(self._report_every(started))
        try:
            for i, config in enumerate(configs):
                at = started + spread * (i + rng.random()) / o.boxes
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, at - time.monotonic())):
                        await stop.wait()
                if stop.is_set():
                    break
                await self._start(i, config)
            await stop.wait()
        finally:
            reporter.cancel()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(reporter, *self._tasks, return_exceptions=True)
            self._report(self.summary(started))
            await self._stop_all()

    async def _start(self, index: int, config: Config) -> None:
        o = self._options
        name = config.charge_point.id
        options = RunOptions(board=o.board, data_dir=o.data_dir / name, api="127.0.0.1:0")
        try:
            box = Wallbox(options, config=config)
            box.keys.set("MeterValueSampleInterval", str(o.meter_values_s), notify=False)
            await box.start()
        except Exception:
            self.counts.failed += 1
            log.exception("fleet box %s did not start", name)
            return
        self.boxes.append(box)
        self.counts.started += 1
        steps = session_steps(o.sessions, f"TAG-{name}"[:20], o.shape, o.seed * 100_003 + index)
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
            bench.set_ev(step.value, None, None)
            if not plugged and step.value != "A":
                self.counts.plug_ins += 1
            plugged = step.value != "A"

    async def _report_every(self, started: float) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            self._report(self.summary(started))

    def summary(self, started: float) -> str:
        registered = sum(1 for b in self.boxes if b.ocpp is not None and b.ocpp.csms.accepted)
        charging = sum(
            1 for b in self.boxes if b.status()["connectors"]["1"]["status"] == "Charging"
        )
        return (
            f"fleet {time.monotonic() - started:5.0f} s: {self.counts.started}/"
            f"{self._options.boxes} started, {registered} registered, {charging} charging, "
            f"{self.counts.plug_ins} plug-ins, {self.counts.failed} failed"
        )

    async def _stop_all(self) -> None:
        boxes, self.boxes = self.boxes, []
        for i in range(0, len(boxes), STOP_AT_ONCE):
            await asyncio.gather(*(b.stop() for b in boxes[i : i + STOP_AT_ONCE]))


def _allow_open_files(wanted: int) -> None:
    """Each box holds a few sockets and its database's files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
