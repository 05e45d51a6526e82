"""Fault -> contactor-open latency under API and CPU load, and the control loop's tick jitter.

Run: python tests/bench/bench_fault_latency.py [--injections 1000]

The wallbox runs in-process on the bench-sim board with the default 100 ms tick, its asyncio
loop in its own thread. Faults are injected from the main thread, as a GPIO interrupt thread
would deliver them on a Pi; a probe on the plant's coil output timestamps the opening. One
child process hammers GET /api/status, and one busy-loop process per core loads the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from firmware.app import RunOptions, Wallbox  # noqa: E402

KINDS = ("rcd", "overtemperature", "contactor_weld", "diode", "pilot_short")
API_LOAD = """
import signal, sys, time, urllib.request
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
url, until = sys.argv[1], time.monotonic() + float(sys.argv[2])
n = 0
try:
    while time.monotonic() < until:
        urllib.request.urlopen(url, timeout=5).read(); n += 1
finally:
    print(n)
"""
CPU_LOAD = "import time\nuntil = time.monotonic() + {s}\nwhile time.monotonic() < until: pass\n"


class Probe:
    """Timestamps the first contactor opening (or pilot state F) after arming."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0
        self.watch = "contactor_coil"

    def arm(self, watch: str) -> None:
        self.watch = watch
        self.event.clear()

    def __call__(self, signal: str, value: float) -> None:
        if signal == self.watch and value == 0.0 and not self.event.is_set():
            self.at = time.perf_counter()
            self.event.set()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--injections", type=int, default=1000)
    args = parser.parse_args()

    logging.disable(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="pievse-bench-"))
    config = data_dir / "bench.toml"
    # The diode fault releases state F after fault_retry_s; shorten it so the bench cycles.
    config.write_text("[control]\nfault_retry_s = 0.05\n")
    wallbox = Wallbox(RunOptions(config=config, data_dir=data_dir, api="127.0.0.1:0"))
    plant = wallbox.board.bench
    probe = Probe()
    plant.probe_outputs(probe)

    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(wallbox.start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    host, port = wallbox.api_address
    budget_s = 600
    loads = [
        subprocess.Popen(
            [sys.executable, "-c", API_LOAD, f"http://{host}:{port}/api/status", str(budget_s)],
            stdout=subprocess.PIPE,
            text=True,
        )
    ]
    loads += [
        subprocess.Popen([sys.executable, "-c", CPU_LOAD.format(s=budget_s)])
        for _ in range(os.cpu_count() or 1)
    ]
    controller = wallbox.controller

    def wait(predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench stuck: {controller.snapshot()}")
            time.sleep(0.002)

    def charging() -> None:
        plant.set_ev("A", None, None)
        wait(lambda: controller.connector_status().status == "Available")
        plant.set_ev("B", None, None)
        plant.present_tag("BENCH")
        wait(lambda: controller.session is not None)
        plant.set_ev("C", None, None)
        wait(lambda: plant.output("contactor_coil"))

    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    started = time.monotonic()
    try:
        time.sleep(1.0)
        controller.tick_lateness_s.clear()
        for i in range(args.injections):
            kind = KINDS[i % len(KINDS)]
            charging()
            time.sleep(0.003 + (i % 37) / 370 * 0.1)  # land anywhere within a tick
            if kind == "contactor_weld":
                # Welded while idle: the mirror contact closes, the box must go to state F.
                plant.set_ev("B", None, None)
                wait(lambda: not plant.output("contactor_coil"))
                probe.arm("pilot")
                t0 = time.perf_counter()
                plant.set_fault("contactor_weld", True)
            else:
                probe.arm("contactor_coil")
                t0 = time.perf_counter()
                if kind == "pilot_short":
                    plant.set_ev("E", None, None)
                else:
                    plant.set_fault(kind, True)
            if not probe.event.wait(2.0):
                raise RuntimeError(f"{kind}: contactor did not open within 2 s")
            latencies[kind].append((probe.at - t0) * 1000)
            if kind != "pilot_short":
                plant.set_fault(kind, False)
            plant.set_ev("A", None, None)
            wait(lambda: not controller.supervisor.faults(), timeout=5)
    finally:
        elapsed = time.monotonic() - started
        for process in loads:
            process.send_signal(signal.SIGTERM)
        requests = loads[0].communicate(timeout=10)[0].strip() or "?"
        loop.call_soon_threadsafe(loop.stop)

    every = [v for values in latencies.values() for v in values]
    print(
        f"fault -> contactor open, {len(every)} injections in {elapsed:.0f} s, "
        f"{os.cpu_count()} CPU burners, API client made {requests} requests meanwhile"
    )
    print(f"{'fault':16} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, values in [*latencies.items(), ("all", every)]:
        print(
            f"{kind:16} {len(values):5d} {statistics.median(values):8.3f} "
            f"{percentile(values, 99):8.3f} {max(values):8.3f}"
        )
    lateness = [v * 1000 for v in controller.tick_lateness_s]
    print(
        f"tick jitter (lateness vs the 100 ms schedule), {len(lateness)} ticks: "
        f"p50 {statistics.median(lateness):.3f} ms, p99 {percentile(lateness, 99):.3f} ms, "
        f"max {max(lateness):.3f} ms"
    )


if __name__ == "__main__":
    main()
