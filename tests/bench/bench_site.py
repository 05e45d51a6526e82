"""Several boxes sharing one supply over a real mosquitto broker, in this process, with the
shipped timing (100 ms ticks, 1 s meter polls; box 1's grid meter read each second):

- time from a house-load step to a valid allocation (every box's share within the fuse the
  house leaves) and to every pilot offering within it (a pilot's duty changes at most every
  5 s, so each step comes after a quiet 6 s), and the peak overshoot while they react;
- the peak overshoot outside the reactions (in steady sharing and while boxes join);
- broker messages per second (the site's topics, as a watching client receives them);
- CPU per box (this process, over 10 s of steady sharing), and mosquitto's.

Run: python tests/bench/bench_site.py [--boxes 8,50]   (needs mosquitto)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.firmware.app.run_options import RunOptions  # noqa: E402
from pievse.firmware.app.wallbox import Wallbox  # noqa: E402
from pievse.firmware.config import Config, with_overrides  # noqa: E402
from tests.rigs.mosquitto import Broker, running_broker  # noqa: E402
from tests.rigs.proc_stats import cpu_s  # noqa: E402

STEADY_S = 10.0
STEPS = 5
HOLD_S = 6.0
"""Quiet before each step: a pilot changes its duty at most every 5 s (IEC 61851-1)."""


def fuse_for(boxes: int) -> tuple[float, float]:
    """A fuse giving each box 12.5 A with no house, and a house step leaving 7.5 A each."""
    return 12.5 * boxes, 5.0 * boxes


class Site:
    def __init__(self, boxes: list[Wallbox], fuse_a: float) -> None:
        self.boxes = boxes
        self.fuse_a = fuse_a
        self.house_a = 0.0

    def total_a(self, shares: bool = False) -> float:
        """What the boxes offer on their pilots (three-phase: the same on every phase), or
        their site shares, plus the house."""
        if shares:
            return sum(_share_a(b) for b in self.boxes) + self.house_a
        return sum(b.controller.offered_a for b in self.boxes) + self.house_a

    async def grid_meter(self) -> None:
        """Box 1's grid meter, polled each second: the house and what every box's EV draws
        at that moment."""
        meter = self.boxes[0]
        while True:
            plants = [b.board.bench.meter_values() for b in self.boxes if b.board.bench]
            currents = [
                self.house_a + sum(v[f"Current.Import/L{p + 1}"] for v in plants) for p in range(3)
            ]
            meter.grid.feed(currents)
            await asyncio.sleep(1.0)


async def measure(boxes: int, broker: Broker, data: Path) -> None:
    fuse, step = fuse_for(boxes)
    base = with_overrides(
        Config(),
        {
            "mqtt": {"url": broker.url, "discovery_prefix": ""},
            "site": {"id": "bench", "main_fuse_a": fuse, "max_boxes": boxes, "house_metered": True},
            "api": {"listen": "127.0.0.1:0"},
        },
        "bench",
    )
    started: list[Wallbox] = []
    site = Site(started, fuse)
    feeder: asyncio.Task[None] | None = None
    peak_steady = 0.0
    try:
        for i in range(boxes):
            name = f"site-{i + 1:03d}"
            config = with_overrides(base, {"charge_point": {"id": name}}, "bench")
            box = Wallbox(RunOptions(data_dir=data / name), config=config)
            await box.start()
            started.append(box)
        feeder = asyncio.create_task(site.grid_meter())
        for box in started:
            assert box.board.bench is not None
            box.board.bench.set_ev("B", None, None)
            box.board.bench.present_tag("BENCH")
        await asyncio.sleep(1.0)
        for box in started:
            assert box.board.bench is not None
            box.board.bench.set_ev("C", None, None)
        share = fuse / boxes
        peak_steady = await _until(site, lambda: _all_offer(site, share), 60)
        messages = await _count_messages(broker, STEADY_S / 2)
        cpu_before, mosquitto_before, at = cpu_s(os.getpid()), cpu_s(broker.pid), time.monotonic()
        peak_steady = max(peak_steady, await _hold(site, STEADY_S))
        elapsed = time.monotonic() - at
        cpu = (cpu_s(os.getpid()) - cpu_before) / elapsed
        broker_cpu = (cpu_s(broker.pid) - mosquitto_before) / elapsed
        shares, pilots = [], []
        for _ in range(STEPS):
            peak_steady = max(peak_steady, await _hold(site, HOLD_S))
            site.house_a = step
            began = time.monotonic()
            await _until(site, lambda: site.total_a(shares=True) <= site.fuse_a + 0.01, 30)
            shares.append(time.monotonic() - began)
            peak = await _until(site, lambda: site.total_a() <= site.fuse_a + 0.01, 30)
            pilots.append((time.monotonic() - began, peak - fuse))
            await _until(site, lambda: _all_offer(site, (fuse - step) / boxes), 30)
            peak_steady = max(peak_steady, await _hold(site, HOLD_S))
            site.house_a = 0.0
            peak_steady = max(peak_steady, await _until(site, lambda: _all_offer(site, share), 60))
        worst = max(pilots)
        print(
            f"{boxes:4d} boxes on {fuse:.0f} A, a {step:.0f} A house step: every share within "
            f"the fuse after {max(shares):.2f} s at worst (p50 {statistics.median(shares):.2f}"
            f" s), every pilot after {worst[0]:.2f} s at worst ({worst[1]:.1f} A over while "
            f"reacting); outside reactions {max(0.0, peak_steady - fuse):.2f} A over at peak; "
            f"{messages:.0f} broker msg/s; CPU {cpu / boxes:.2%} of a core per box "
            f"(mosquitto {broker_cpu:.1%})"
        )
    finally:
        if feeder is not None:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
        for box in started:
            await box.stop()


def _share_a(box: Wallbox) -> float:
    assert box.site_share is not None
    return box.site_share.share_a


def _all_offer(site: Site, share: float) -> bool:
    """Within the hysteresis a share is raised past."""
    return all(abs(b.controller.offered_a - share) < 0.6 for b in site.boxes)


async def _until(site: Site, done: object, timeout: float) -> float:
    """The peak of the total until `done()`; each 10 ms."""
    peak = 0.0
    deadline = time.monotonic() + timeout
    while True:
        peak = max(peak, site.total_a())
        if done():  # type: ignore[operator]
            return peak
        if time.monotonic() > deadline:
            offers = [round(b.controller.offered_a, 2) for b in site.boxes]
            raise RuntimeError(f"not within {timeout} s: the pilots offer {offers}")
        await asyncio.sleep(0.01)


async def _hold(site: Site, seconds: float) -> float:
    peak = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, site.total_a())
        await asyncio.sleep(0.01)
    return peak


async def _count_messages(broker: Broker, seconds: float) -> float:
    async with broker.watch("pievse/site/#") as watch:
        await asyncio.sleep(0.5)
        before = len(watch.messages)
        await asyncio.sleep(seconds)
        return (len(watch.messages) - before) / seconds


async def main(counts: list[int]) -> None:
    for boxes in counts:
        with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "b") as broker:
            await measure(boxes, broker, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--boxes", default="8,50")
    arguments = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main([int(n) for n in arguments.boxes.split(",")]))
