"""What starting one fleet box costs: N boxes of `pievse fleet` started in this process at
once (a boot spread of zero) against the bench CSMS in its own process, until every box has
booted and read its meter once; then the CPU per box start (less what the boxes already
running cost meanwhile, measured over 10 s after), the RSS per box, and how many TCP ports
the fleet process listens on (each box's local API, and the meter servers). `--profile`
prints where the start's CPU went; `--own-meters` gives each box a meter server of its own,
as fleets had before the shared line, for the comparison.

Run: python tests/bench/bench_box_start.py [--boxes 100] [--profile] [--own-meters]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.firmware.app.process_share import ProcessShare  # noqa: E402
from pievse.firmware.fleet.fleet import Fleet, FleetOptions  # noqa: E402
from pievse.firmware.fleet.session_plan import SessionShape  # noqa: E402
from tests.rigs.proc_stats import rss_mb  # noqa: E402
from tests.rigs.process import free_port  # noqa: E402

BENCH = Path(__file__).resolve().parent
STEADY_S = 10.0
"""Seconds the started fleet runs idle to tell what the boxes cost while the others start."""


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _listening_ports() -> int:
    """TCP sockets this process listens on (state 0A in /proc/net/tcp, owned by our fds)."""
    ours = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            ours.add(target[8:-1])
    listening = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        listening += int(fields[3] == "0A" and fields[9] in ours)
    return listening


async def _start_all(fleet: Fleet, boxes: int, deadline_s: float) -> tuple[float, float]:
    """(seconds until every box was registered and had a meter reading, box-seconds the
    boxes ran meanwhile)."""
    started = time.monotonic()
    seen: dict[int, float] = {}
    while True:
        now = time.monotonic()
        for box in fleet.boxes:
            seen.setdefault(id(box), now)
        ready = [
            b
            for b in fleet.boxes
            if b.controller.meter.measurements is not None
            and b.ocpp is not None
            and b.ocpp.csms.accepted
        ]
        if len(ready) == boxes:
            return now - started, sum(now - at for at in seen.values())
        if now - started > deadline_s:
            raise RuntimeError(f"only {len(ready)} of {boxes} ready")
        await asyncio.sleep(0.05)


async def measure(
    boxes: int, csms_url: str, data_dir: Path, profile: bool, own_meters: bool
) -> None:
    options = FleetOptions(
        boxes=boxes,
        csms_url=csms_url,
        data_dir=data_dir,
        boot_over_s=0.0,
        sessions="none",
        shape=SessionShape(),
    )
    share = ProcessShare(meter_line=None) if own_meters else ProcessShare()
    fleet = Fleet(options, lambda _report: None, share)
    stop = asyncio.Event()
    rss_before, cpu_before = rss_mb(os.getpid()), _cpu_s()
    profiler = cProfile.Profile(time.process_time) if profile else None
    if profiler is not None:
        profiler.enable()
    running = asyncio.create_task(fleet.run(stop))
    try:
        wall, box_s = await _start_all(fleet, boxes, 120 + boxes * 2.0)
        if profiler is not None:
            profiler.disable()
        cpu = _cpu_s() - cpu_before
        await asyncio.sleep(2)
        rss = rss_mb(os.getpid()) - rss_before
        steady_from = _cpu_s()
        await asyncio.sleep(STEADY_S)
        steady = (_cpu_s() - steady_from) / STEADY_S / boxes
        ports = _listening_ports()
    finally:
        stop.set()
        await running
    net = cpu - steady * box_s
    load = os.getloadavg()
    meters = "a meter server each" if own_meters else "one shared meter line"
    print(f"boxes {boxes} ({meters}): all registered and metered after {wall:.1f} s")
    print(f"  start CPU {cpu:.1f} s, less the boxes running meanwhile", end=" ")
    print(f"({steady * 1000:.2f} ms a box a second): {net / boxes * 1000:.1f} ms a box start")
    print(f"  RSS +{rss:.0f} MB, {rss / boxes:.2f} MB a box; TCP ports listened on: {ports}")
    print(f"  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--own-meters", action="store_true", help="each box its own meter server, as before"
    )
    args = parser.parse_args()
    port = free_port()
    csms = subprocess.Popen(
        [sys.executable, str(BENCH / "fleet_csms.py"), str(port)], stdout=subprocess.DEVNULL
    )
    try:
        time.sleep(1.0)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"ws://127.0.0.1:{port}/ocpp"
            asyncio.run(measure(args.boxes, url, Path(tmp), args.profile, args.own_meters))
    finally:
        csms.kill()
        csms.wait()


if __name__ == "__main__":
    main()
