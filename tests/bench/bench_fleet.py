"""How many real boxes one core holds: `pievse fleet` against a local CSMS (its own process),
every box booted, charging and sending MeterValues every 10 s; for each size, the time until
every box charged, the fleet's CPU (share of one core) and RSS per box over 30 s and whether
the fleet marked itself overloaded, and beside it as many virtual charge points of a peer
simulator (scripts on the `ocpp` library, tests/bench/virtual_charge_points.py) with the
ratios per box. The sizes climb until the fleet needs more than one core.

Run: python tests/bench/bench_fleet.py [--sizes 250,500,1000,1500] [--measure-s 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.rigs.proc_stats import cpu_s, rss_mb  # noqa: E402
from tests.rigs.process import PIEVSE, free_port  # noqa: E402

BENCH = Path(__file__).resolve().parent


class Csms:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "fleet_csms.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        os.set_blocking(self.process.stdout.fileno(), False)  # type: ignore[union-attr]
        self.latest = (0, 0, 0)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def counts(self) -> tuple[int, int, int]:
        """(booted, started, MeterValues so far)."""
        assert self.process.stdout is not None
        for line in self.process.stdout.readlines():
            _, booted, _, started, _, meter_values = line.split()
            self.latest = (int(booted), int(started), int(meter_values))
        return self.latest

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def measure(command: list[str], boxes: int, measure_s: float) -> tuple[float, float, float, float]:
    """(seconds until all charged, CPU share of a core, RSS MB per box, MeterValues per
    second) once all charge."""
    csms = Csms()
    time.sleep(0.5)
    process = subprocess.Popen(
        [part.replace("{url}", csms.url) for part in command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 120 + boxes * 0.3
        while csms.counts()[1] < boxes:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"only {csms.counts()} of {boxes} booted/charging")
            time.sleep(1)
        charging_after = time.monotonic() - started
        time.sleep(12)  # every box past its first MeterValues
        before, meter_before, at = cpu_s(process.pid), csms.counts()[2], time.monotonic()
        time.sleep(measure_s)
        elapsed = time.monotonic() - at
        cpu = (cpu_s(process.pid) - before) / elapsed
        rate = (csms.counts()[2] - meter_before) / elapsed
        return charging_after, cpu, rss_mb(process.pid) / boxes, rate
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        csms.close()


def _ratio(ours: float, theirs: float) -> str:
    """Too short a measurement can leave the peer's CPU at zero clock ticks."""
    return f"{ours / theirs:.1f}" if theirs > 0 else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="250,500,1000,1500")
    parser.add_argument("--measure-s", type=float, default=30.0)
    args = parser.parse_args()
    print(f"{'boxes':>6} {'boot over':>9} {'all charging':>12} {'pievse CPU':>10} "
          f"{'RSS/box':>8} {'MV/s':>6} {'overloaded':>10} {'peer CPU':>9} {'RSS/cp':>7} "
          f"{'CPU ratio':>9} {'RSS ratio':>9}")  # fmt: skip
    largest = 0
    for boxes in (int(n) for n in args.sizes.split(",")):
        boot_over = boxes / 50
        summary = Path(tempfile.mkdtemp()) / "summary.json"
        fleet = [*PIEVSE, "fleet", "--boxes", str(boxes), "--csms", "{url}"]
        fleet += ["--boot-over-s", str(boot_over), "--session-s", "100000", "--idle-s", "1"]
        fleet += ["--summary", str(summary)]
        charged, cpu, rss, rate = measure(fleet, boxes, args.measure_s)
        overloaded = json.loads(summary.read_text())["own"]["overloaded"]
        peer = [sys.executable, str(BENCH / "virtual_charge_points.py"), str(boxes), "{url}"]
        _, peer_cpu, peer_rss, _ = measure(peer, boxes, args.measure_s)
        print(
            f"{boxes:6d} {boot_over:8.0f}s {charged:11.0f}s {cpu:10.1%} {rss:7.2f}M "
            f"{rate:6.1f} {'yes' if overloaded else 'no':>10} {peer_cpu:9.1%} "
            f"{peer_rss:6.2f}M {_ratio(cpu, peer_cpu):>9} {_ratio(rss, peer_rss):>9}",
            flush=True,
        )
        if cpu > 1.0 or overloaded:
            break
        largest = boxes
    print(f"largest fleet within one core here: {largest} boxes")


if __name__ == "__main__":
    main()
