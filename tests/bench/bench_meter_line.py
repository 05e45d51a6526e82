"""The meter half of a fleet box's start, alone: N bench-fleet boards built in one process
and each board's meter and grid meter polled once through the real client and driver, with
the fleet's shared meter line and with a meter server a box (as fleets had before it); CPU
and RSS a box, each mode in a fresh process, then a second round of polls (what a box's
meter costs while it runs).

Run: python tests/bench/bench_meter_line.py [--boxes 250]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.board.assembly import assemble  # noqa: E402
from pievse.board.loader import load_board  # noqa: E402
from pievse.hal.interfaces import MeterError  # noqa: E402
from pievse.hal.sim.meter_line import MeterLine  # noqa: E402
from tests.rigs.proc_stats import rss_mb  # noqa: E402


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _poll_all(boards: list) -> None:  # type: ignore[type-arg]
    for board in boards:
        await board.meter.poll()
        # No site set: the grid meter answers with an exception, as on the bench.
        with contextlib.suppress(MeterError):
            await board.grid_meter.poll()


async def measure(boxes: int, shared: bool, data_dir: Path) -> None:
    spec = load_board("bench-fleet")
    line = MeterLine() if shared else None
    rss_before, cpu_before = rss_mb(os.getpid()), _cpu_s()
    boards = []
    for i in range(boxes):
        box_dir = data_dir / f"box-{i}"
        box_dir.mkdir()
        boards.append(assemble(spec, time.monotonic, box_dir, line))
    await _poll_all(boards)
    started_cpu = _cpu_s() - cpu_before
    rss = rss_mb(os.getpid()) - rss_before
    again = _cpu_s()
    await _poll_all(boards)
    polled_cpu = _cpu_s() - again
    for board in boards:
        await board.meter.close()
        await board.grid_meter.close()
    if line is not None:
        await line.close()
    mode = "one shared line" if shared else "a server a box"
    print(
        f"{boxes} boxes, {mode}: start {started_cpu / boxes * 1000:.2f} ms CPU and "
        f"{rss / boxes * 1024:.0f} KB a box; a poll of both meters "
        f"{polled_cpu / boxes * 1000:.2f} ms CPU a box"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=250)
    parser.add_argument("--mode", choices=("shared", "own"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode is not None:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(measure(args.boxes, args.mode == "shared", Path(tmp)))
        return
    for mode in ("own", "shared"):
        command = [sys.executable, __file__, "--boxes", str(args.boxes), "--mode", mode]
        subprocess.run(command, check=True)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
