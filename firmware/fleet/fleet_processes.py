"""One fleet over several processes (`--processes N`): each runs a shard of the boxes and
writes its report to a file every 10 s; the parent merges the files into the fleet's report.
A process per core, because one Python process runs its boxes on one core."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import tempfile
import time
from dataclasses import replace
from multiprocessing.process import BaseProcess
from pathlib import Path

from pievse.firmware.fleet.fleet import REPORT_EVERY_S, Fleet, FleetOptions
from pievse.firmware.fleet.fleet_output import FleetOutput
from pievse.firmware.fleet.fleet_report import FleetReport, merged, read_summary
from pievse.firmware.fleet.repeated_messages import quiet_fleet_logging
from pievse.firmware.fleet.stop_signals import until_stopped

log = logging.getLogger(__name__)
STOP_WAIT_S = 120.0


def run_shard(options: FleetOptions, summary: Path, duration_s: float | None) -> None:
    """A child process: its shard of the fleet, its reports into `summary` only."""
    quiet_fleet_logging(verbose=False)
    output = FleetOutput(lambda _line: None, summary)
    asyncio.run(until_stopped(Fleet(options, output), duration_s))


class ShardedRun:
    def __init__(self, options: FleetOptions, processes: int, output: FleetOutput) -> None:
        self._options = options
        self._processes = processes
        self._output = output

    async def run(self, stop: asyncio.Event, duration_s: float | None) -> None:
        context = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="pievse-fleet-shards-") as folder:
            files = [Path(folder) / f"shard-{k}.json" for k in range(self._processes)]
            children: list[BaseProcess] = []
            for shard, path in zip(self._options.shard.split(self._processes), files, strict=True):
                child = context.Process(
                    target=run_shard,
                    args=(replace(self._options, shard=shard), path, duration_s),
                    name=f"fleet-shard-{shard.index}",
                )
                child.start()
                children.append(child)
            started = time.monotonic()
            try:
                while not stop.is_set() and any(c.is_alive() for c in children):
                    await _wait(stop, REPORT_EVERY_S)
                    if not stop.is_set():
                        self._output(self._merged(files, time.monotonic() - started))
            finally:
                for process in children:
                    if process.is_alive():
                        process.terminate()  # SIGTERM: the shard stops its boxes, reports
                deadline = time.monotonic() + STOP_WAIT_S
                for process in children:
                    await asyncio.to_thread(process.join, max(0.0, deadline - time.monotonic()))
                    if process.is_alive():
                        log.error("%s did not stop in time: killed", process.name)
                        process.kill()
                self._output(self._merged(files, time.monotonic() - started))

    def _merged(self, files: list[Path], elapsed_s: float) -> FleetReport:
        reports = []
        for path in files:
            try:
                reports.append(read_summary(path.read_text(), path.name))
            except FileNotFoundError:
                continue  # that shard has not reported yet
            except (OSError, ValueError) as exc:
                log.warning("shard report skipped: %s", exc)
        report = merged(reports)
        report.elapsed_s = max(report.elapsed_s, elapsed_s) if reports else elapsed_s
        return report


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
