"""Several boxes sharing one supply over a real mosquitto broker, with the shipped timing
(100 ms ticks, 1 s meter polls; the site's grid meter read each second and published to the
site by a meter of its own, as any publisher may):

- time from a house-load step to a valid allocation (every box's share within the fuse the
  house leaves) and to every pilot offering within it (a pilot's duty changes at most every
  5 s, so each step comes after 6 s in which no pilot changed: a share that settles in two
  steps would otherwise hold the next change back), and the peak overshoot once the shares
  are valid (until then the step itself is the overshoot);
- the peak overshoot outside the reactions (in steady sharing and while boxes join);
- broker messages per second (the site's topics, as a watching client receives them);
- CPU per box (the box processes, over 10 s of steady sharing), and mosquitto's.

On a site each box is its own computer and hears every other box, so a box's work grows
with the site; here the boxes run in processes of `--per-process` boxes each, so that one
process does not carry the whole site's work (which grows with the cube of its size) and
delay every box in it.

Run: python tests/bench/bench_site.py [--boxes 8,50] [--per-process 13]   (needs mosquitto)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from pievse.firmware.app.run_options import RunOptions  # noqa: E402
from pievse.firmware.app.wallbox import Wallbox  # noqa: E402
from pievse.firmware.config import Config, with_overrides  # noqa: E402
from pievse.firmware.site.site_messages import GridShare, SiteCodec  # noqa: E402
from tests.rigs.mosquitto import Broker, running_broker  # noqa: E402
from tests.rigs.proc_stats import cpu_s  # noqa: E402

SITE = "bench"
SECRET = "the-bench-site-secret"
"""The site signs its messages (a box shares no site unsigned)."""
STEADY_S = 10.0
STEPS = 5
QUIET_S = 6.0
"""No pilot changes for this long before each step: a pilot changes its duty at most every
5 s (IEC 61851-1)."""
REPORT_S = 0.02
"""Each box process tells its boxes' offers and shares this often (a pilot's offer changes
at most each 100 ms control tick)."""
DRAWS_EVERY = 10
"""Reports between two readings of the EVs' draws (for the site's grid meter)."""
Report = tuple[float, float, float, float, float]
"""A box's pilot offer, its site share, and its EV's draw on L1, L2, L3."""


def fuse_for(boxes: int) -> tuple[float, float]:
    """A fuse giving each box 12.5 A with no house, and a house step leaving 7.5 A each."""
    return 12.5 * boxes, 5.0 * boxes


def box_process(conn: Connection, names: list[str], site: dict[str, Any], data: str) -> None:
    asyncio.run(_run_boxes(conn, names, site, Path(data)))


async def _run_boxes(conn: Connection, names: list[str], site: dict[str, Any], data: Path) -> None:
    """Real boxes, told by the bench what their EVs do; each 10 ms their offers, shares and
    draws go back."""
    base = with_overrides(
        Config(),
        {
            "mqtt": {"url": site.pop("broker_url"), "discovery_prefix": ""},
            "site": site,
            "api": {"listen": "127.0.0.1:0"},
        },
        "bench",
    )
    boxes: list[Wallbox] = []
    try:
        for name in names:
            config = with_overrides(base, {"charge_point": {"id": name}}, "bench")
            box = Wallbox(RunOptions(data_dir=data / name), config=config)
            await box.start()
            boxes.append(box)
        conn.send("started")
        draws: list[tuple[float, float, float]] = []
        for sent in itertools.count():
            while conn.poll():
                command = conn.recv()
                if command == "stop":
                    return
                for box in boxes:
                    assert box.board.bench is not None
                    box.board.bench.set_ev("B" if command == "plug" else "C", None, None)
                    if command == "plug":
                        box.board.bench.present_tag("BENCH")
            if sent % DRAWS_EVERY == 0:
                draws = [_draw(box) for box in boxes]
            conn.send([_report(box, draw) for box, draw in zip(boxes, draws, strict=True)])
            await asyncio.sleep(REPORT_S)
    finally:
        for box in boxes:
            await box.stop()


def _draw(box: Wallbox) -> tuple[float, float, float]:
    assert box.board.bench is not None
    values = box.board.bench.meter_values()
    l1, l2, l3 = (values[f"Current.Import/L{p}"] for p in (1, 2, 3))
    return l1, l2, l3


def _report(box: Wallbox, draw: tuple[float, float, float]) -> Report:
    assert box.site_share is not None
    return (box.controller.offered_a, box.site_share.share_a, *draw)


class Site:
    """The boxes as their processes last reported them, the house, and the grid meter."""

    def __init__(self, conns: list[Connection], fuse_a: float, broker: Broker) -> None:
        self.conns = conns
        self.fuse_a = fuse_a
        self.house_a = 0.0
        self.reports: list[list[Report]] = [[] for _ in conns]
        self._broker = broker
        self._codec = SiteCodec(SITE, SECRET)
        self.peak_a = 0.0
        self.changed_at = time.monotonic()
        """When a pilot's offer last changed."""

    @property
    def boxes(self) -> list[Report]:
        return [r for reports in self.reports for r in reports]

    def total_a(self, shares: bool = False) -> float:
        """What the boxes offer on their pilots (three-phase: the same on every phase), or
        their site shares, plus the house."""
        return sum(r[1] if shares else r[0] for r in self.boxes) + self.house_a

    def tell(self, command: str) -> None:
        for conn in self.conns:
            conn.send(command)

    async def follow(self) -> None:
        """Each few ms: the processes' reports, and the peak of what the pilots offer."""
        while True:
            offers = [r[0] for r in self.boxes]
            for i, conn in enumerate(self.conns):
                while conn.poll():
                    self.reports[i] = conn.recv()
            if offers != [r[0] for r in self.boxes]:
                self.changed_at = time.monotonic()
            self.peak_a = max(self.peak_a, self.total_a())
            await asyncio.sleep(REPORT_S / 2)

    async def grid_meter(self) -> None:
        """Polled each second: the house and what every box's EV draws at that moment."""
        topic = f"{Config().mqtt.topic_prefix}/site/{SITE}/grid"
        async with aiomqtt.Client("127.0.0.1", self._broker.port, identifier="grid") as client:
            while True:
                l1, l2, l3 = (self.house_a + sum(r[2 + p] for r in self.boxes) for p in range(3))
                reading = GridShare("grid-meter", time.time(), (l1, l2, l3), None)
                await client.publish(topic, self._codec.encode(reading))
                await asyncio.sleep(1.0)


async def measure(boxes: int, per_process: int, broker: Broker, data: Path) -> None:
    fuse, step = fuse_for(boxes)
    names = [f"site-{i + 1:03d}" for i in range(boxes)]
    groups = [names[i : i + per_process] for i in range(0, boxes, per_process)]
    config = {
        "id": SITE,
        "main_fuse_a": fuse,
        "max_boxes": boxes,
        "house_metered": True,
        "secret": SECRET,
    }
    spawn = multiprocessing.get_context("spawn")
    conns, processes = [], []
    for group in groups:
        ours, theirs = spawn.Pipe()
        process = spawn.Process(
            target=box_process, args=(theirs, group, dict(config, broker_url=broker.url), str(data))
        )
        process.start()
        conns.append(ours)
        processes.append(process)
    site = Site(conns, fuse, broker)
    tasks: list[asyncio.Task[None]] = []
    try:
        for conn in conns:
            if not await asyncio.to_thread(conn.poll, 60) or conn.recv() != "started":
                raise RuntimeError("a box process did not start its boxes")
        tasks = [asyncio.create_task(site.follow()), asyncio.create_task(site.grid_meter())]
        site.tell("plug")
        await asyncio.sleep(1.0)
        site.tell("charge")
        share = fuse / boxes
        peak_steady = await _until(site, lambda: _all_offer(site, share), 60)
        messages = await _count_messages(broker, STEADY_S / 2)
        pids = [p.pid for p in processes if p.pid is not None]
        cpu_before, mosquitto_before, at = _cpu(pids), cpu_s(broker.pid), time.monotonic()
        peak_steady = max(peak_steady, await _hold(site, STEADY_S))
        elapsed = time.monotonic() - at
        cpu = (_cpu(pids) - cpu_before) / elapsed
        broker_cpu = (cpu_s(broker.pid) - mosquitto_before) / elapsed
        shares, pilots = [], []
        for _ in range(STEPS):
            peak_steady = max(peak_steady, await _quiet(site))
            site.house_a = step
            began = time.monotonic()
            await _until(site, lambda: site.total_a(shares=True) <= site.fuse_a + 0.01, 30)
            shares.append(time.monotonic() - began)
            peak = await _until(site, lambda: site.total_a() <= site.fuse_a + 0.01, 30)
            pilots.append((time.monotonic() - began, peak - fuse))
            await _until(site, lambda: _all_offer(site, (fuse - step) / boxes), 30)
            peak_steady = max(peak_steady, await _quiet(site))
            site.house_a = 0.0
            peak_steady = max(peak_steady, await _until(site, lambda: _all_offer(site, share), 60))
        worst = max(pilots)
        print(
            f"{boxes:4d} boxes on {fuse:.0f} A ({len(groups)} processes), a {step:.0f} A house "
            f"step: every share within the fuse after {max(shares):.2f} s at worst (p50 "
            f"{statistics.median(shares):.2f} s), every pilot after {worst[0]:.2f} s at worst "
            f"({worst[1]:.1f} A over once every share was valid); outside reactions "
            f"{max(0.0, peak_steady - fuse):.2f} A over at peak; {messages:.0f} broker msg/s; "
            f"CPU {cpu / boxes:.2%} of a core per box (mosquitto {broker_cpu:.1%})",
            flush=True,
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(OSError):
            site.tell("stop")
        for process in processes:
            await asyncio.to_thread(process.join, 30)
            if process.is_alive():
                process.kill()


def _cpu(pids: list[int]) -> float:
    return sum(cpu_s(pid) for pid in pids)


def _all_offer(site: Site, share: float) -> bool:
    """Within the hysteresis a share is raised past."""
    return all(abs(r[0] - share) < 0.6 for r in site.boxes)


async def _until(site: Site, done: Callable[[], bool], timeout: float) -> float:
    """The peak of the total until `done()`."""
    site.peak_a = site.total_a()
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            offers = [round(r[0], 2) for r in site.boxes]
            raise RuntimeError(f"not within {timeout} s: the pilots offer {offers}")
        await asyncio.sleep(REPORT_S)
    return site.peak_a


async def _hold(site: Site, seconds: float) -> float:
    site.peak_a = site.total_a()
    await asyncio.sleep(seconds)
    return site.peak_a


async def _quiet(site: Site) -> float:
    """The peak of the total until no pilot has changed for `QUIET_S`."""
    site.peak_a = site.total_a()
    deadline = time.monotonic() + 60
    while time.monotonic() - site.changed_at < QUIET_S:
        if time.monotonic() > deadline:
            raise RuntimeError("the pilots did not settle within 60 s")
        await asyncio.sleep(REPORT_S)
    return site.peak_a


async def _count_messages(broker: Broker, seconds: float) -> float:
    async with broker.watch(f"{Config().mqtt.topic_prefix}/site/#") as watch:
        await asyncio.sleep(0.5)
        before = len(watch.messages)
        await asyncio.sleep(seconds)
        return (len(watch.messages) - before) / seconds


async def main(counts: list[int], per_process: int) -> None:
    for boxes in counts:
        with tempfile.TemporaryDirectory() as tmp, running_broker(Path(tmp) / "b") as broker:
            await measure(boxes, per_process, broker, Path(tmp))


def _arguments() -> Any:
    parser = argparse.ArgumentParser()
    parser.add_argument("--boxes", default="8,50")
    parser.add_argument("--per-process", type=int, default=13)
    arguments = parser.parse_args()
    if arguments.per_process < 1:
        parser.error("--per-process: at least 1")
    return arguments


if __name__ == "__main__":
    arguments = _arguments()
    counts = [int(n) for n in arguments.boxes.split(",")]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(counts, arguments.per_process))
