"""Fault -> contactor-open latency under API and CPU load, and the control loop's tick jitter.

Run: python tests/bench/bench_fault_latency.py [--injections 1000] [--priority normal|unit]
       [--ocpp 1.6|2.0.1]
     python tests/bench/bench_fault_latency.py --reactions [--injections 30]
       [--loads none,flood] [--cpu-injections 10] [--budget-s 300]

`--reactions` measures what the control step itself decides (EV unplugged C->A, state E,
state F, a missing diode, an EV drawing beyond its allowance, a fault raised by the step),
each from the moment the input changed (for the over-current, the meter's reading; for the
step's fault, the raise) to the coil opening, under each load of `reaction_loads.py` in
turn, one fresh box process per load, and the box's memory while charging. Each load says how
much it ran meanwhile; one that ran nothing (or a box process that failed or outran its
budget) is named and the bench exits non-zero. The CPU burners slow the box's own cycling
most: that load runs `--cpu-injections` of each reaction, and every load stops injecting at
`--budget-s`.

The wallbox runs in-process on the bench-sim board with the default 100 ms tick, its asyncio
loop in its own thread. Faults are injected from the main thread, as a GPIO interrupt thread
would deliver them on a Pi; a probe on the plant's coil output timestamps the opening. One
child process hammers GET /api/status, and one busy-loop process per core loads the CPU.

`--priority unit` runs the controller at the scheduling priority the systemd unit gives the
service (its Nice=, read from deploy/pievse.service; needs root to raise it) while the load
stays at normal priority, as on a Pi that shares its CPU with whatever else runs there.

`--ocpp VERSION` registers the box with a CSMS of that version on the same loop (cards are
authorized by it, every session is reported): the reactions must not change with the front.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
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

from pievse.firmware.app.run_options import RunOptions  # noqa: E402
from pievse.firmware.app.wallbox import Wallbox  # noqa: E402
from tests.bench.bench_ocpp import service_environment  # noqa: E402
from tests.bench.reaction_loads import LOADS  # noqa: E402
from tests.rigs.csms import TestCsms  # noqa: E402
from tests.rigs.csms201 import TestCsms201  # noqa: E402
from tests.rigs.process import PIEVSE, free_port  # noqa: E402

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


def unit_nice() -> int:
    for line in (ROOT / "deploy" / "pievse.service").read_text().splitlines():
        if line.startswith("Nice="):
            return int(line.removeprefix("Nice="))
    return 0


def normal_priority() -> None:
    """In a load process: back to nice 0 (children inherit the controller's nice)."""
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def start_loads(budget_s: float, status_url: str) -> list[subprocess.Popen[str]]:
    """One client hammering the API, one CPU burner per core; all at nice 0."""
    loads = [
        subprocess.Popen(
            [sys.executable, "-c", API_LOAD, status_url, str(budget_s)],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=normal_priority,
        )
    ]
    loads += [
        subprocess.Popen(
            [sys.executable, "-c", CPU_LOAD.format(s=budget_s)],
            text=True,
            preexec_fn=normal_priority,
        )
        for _ in range(os.cpu_count() or 1)
    ]
    return loads


def stop_loads(loads: list[subprocess.Popen[str]]) -> str:
    for process in loads:
        process.send_signal(signal.SIGTERM)
    return loads[0].communicate(timeout=10)[0].strip() or "?"


def from_outside(injections: int, nice: int) -> None:
    """`pievse run` as its own process, as deployed (the unit's Environment= and Nice=); an
    RCD trip injected over the local API, as the outside audit did. The reply to the POST
    comes once the supervisor has opened the contactor, so its round trip bounds the
    reaction; the status read right after must say open. The instrument (this process)
    runs at the controller's priority, the load at nice 0."""
    data_dir = Path(tempfile.mkdtemp(prefix="pievse-bench-"))
    config = data_dir / "bench.toml"
    config.write_text("[control]\nfault_retry_s = 0.05\n")
    port = free_port()
    box = subprocess.Popen(
        [
            *PIEVSE,
            "run",
            "--config",
            str(config),
            "--data-dir",
            str(data_dir / "data"),
            "--api",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=service_environment(),
        stderr=subprocess.DEVNULL,
    )
    api = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def request(method: str, path: str, body: dict[str, object] | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        api.request(method, path, None if body is None else json.dumps(body), headers)
        return json.loads(api.getresponse().read())

    def wait(predicate, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = request("GET", "/api/status")
                if predicate(status):
                    return status
            except (OSError, http.client.HTTPException):
                api.close()
            if time.monotonic() > deadline:
                raise RuntimeError("bench stuck")
            time.sleep(0.005)

    wait(lambda s: s["meter"].get("energy_import_wh") is not None, 20)
    loads = start_loads(600, f"http://127.0.0.1:{port}/api/status")
    latencies = []
    try:
        for i in range(injections):
            request("POST", "/api/bench/ev", {"state": "B"})
            request("POST", "/api/bench/tag", {"id_tag": "BENCH"})
            request("POST", "/api/bench/ev", {"state": "C"})
            wait(lambda s: s["contactor"] == "closed")
            time.sleep(0.003 + (i % 37) / 370 * 0.1)
            t0 = time.perf_counter()
            request("POST", "/api/bench/fault", {"fault": "rcd", "active": True})
            latencies.append((time.perf_counter() - t0) * 1000)
            if request("GET", "/api/status")["contactor"] != "open":
                raise RuntimeError("the POST came back before the contactor opened")
            request("POST", "/api/bench/fault", {"fault": "rcd", "active": False})
            request("POST", "/api/bench/ev", {"state": "A"})
            wait(lambda s: not s["faults"])
    finally:
        requests = stop_loads(loads)
        box.send_signal(signal.SIGTERM)
        box.wait(20)
    print(
        f"from outside: rcd over the API -> contactor open, {len(latencies)} injections, "
        f"pievse run at nice {nice}, {os.cpu_count()} CPU burners at nice 0, "
        f"API client made {requests} requests meanwhile"
    )
    print(
        f"  p50 {statistics.median(latencies):.3f} ms, p99 {percentile(latencies, 99):.3f} ms, "
        f"max {max(latencies):.3f} ms (target p99 < 10 ms)"
    )


def reactions(injections: int, only: str | None, cpu_injections: int, budget_s: float) -> bool:
    """Each load in its own box process (`loop_reactions.py`); one table per load. False
    when a load ran nothing or its box process failed."""
    print(
        f"loop-driven reactions -> contactor open, {injections} of each per load "
        f"({cpu_injections} under cpu), {os.cpu_count()} CPUs; target p99 < 20 ms, max < 100 ms"
    )
    print(f"{'load':10} {'reaction':12} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    ok = True
    for load in LOADS if only is None else only.split(","):
        each = cpu_injections if load == "cpu" else injections
        command = [
            sys.executable,
            str(ROOT / "tests/bench/loop_reactions.py"),
            *("--load", load, "--injections", str(each), "--budget-s", str(budget_s)),
        ]
        try:
            done = subprocess.run(
                command, stdout=subprocess.PIPE, text=True, cwd=ROOT, timeout=budget_s + 180
            )
        except subprocess.TimeoutExpired:
            print(f"{load:10} INVALID: the box process outran its budget of {budget_s:.0f} s")
            ok = False
            continue
        out = done.stdout
        if not out.strip():
            print(f"{load:10} INVALID: the box process failed (exit status {done.returncode})")
            ok = False
            continue
        result = json.loads(out.strip().splitlines()[-1])
        every = [v for values in result["latencies_ms"].values() for v in values]
        for kind, values in [*result["latencies_ms"].items(), ("all", every)]:
            if not values:
                continue
            print(
                f"{load:10} {kind:12} {len(values):4d} {statistics.median(values):8.3f} "
                f"{percentile(values, 99):8.3f} {max(values):8.3f}"
            )
        extra = {k: v for k, v in result.items() if k not in ("latencies_ms", "load")}
        print(f"{load:10} {extra}")
        if load != "none" and not result.get("load_ran"):
            print(f"{load:10} INVALID: the load ran nothing meanwhile ({result.get('load_error')})")
            ok = False
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--injections", type=int, help="1000 faults; with --reactions, 30 of each per load"
    )
    parser.add_argument(
        "--reactions", action="store_true", help="loop-driven reactions under each load"
    )
    parser.add_argument("--loads", help=f"with --reactions: some of {','.join(LOADS)}")
    parser.add_argument(
        "--cpu-injections", type=int, default=10, help="with --reactions: of each, under cpu"
    )
    parser.add_argument(
        "--budget-s", type=float, default=300.0, help="with --reactions: per load, then stop"
    )
    parser.add_argument("--priority", choices=("normal", "unit"), default="normal")
    parser.add_argument(
        "--from-outside", action="store_true", help="a separate `pievse run`, faults over the API"
    )
    parser.add_argument("--ocpp", choices=("1.6", "2.0.1"), help="with a CSMS of this version")
    args = parser.parse_args()
    if args.injections is None:
        args.injections = 30 if args.reactions else 1000
    nice = unit_nice() if args.priority == "unit" else 0
    # Linux keeps a nice value per thread and new threads inherit it: set before any starts.
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    if args.from_outside:
        from_outside(args.injections, nice)
        return
    if args.reactions:
        if not reactions(args.injections, args.loads, args.cpu_injections, args.budget_s):
            sys.exit(1)
        return

    logging.disable(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="pievse-bench-"))
    config = data_dir / "bench.toml"
    # The diode fault releases state F after fault_retry_s; shorten it so the bench cycles.
    config.write_text("[control]\nfault_retry_s = 0.05\n")
    loop = asyncio.new_event_loop()
    csms = None
    if args.ocpp is not None:
        csms = TestCsms201() if args.ocpp == "2.0.1" else TestCsms()
        loop.run_until_complete(csms.start())
        config.write_text(
            config.read_text()
            + f'\n[ocpp]\ncsms_url = "{csms.url}"\nversion = "{args.ocpp}"\n'
            + "\n[security]\nprofile = 0\n"
        )
    wallbox = Wallbox(RunOptions(config=config, data_dir=data_dir, api="127.0.0.1:0"))
    plant = wallbox.board.bench
    probe = Probe()
    plant.probe_outputs(probe)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(wallbox.start())
        if csms is not None:
            loop.run_until_complete(csms.connected(10))
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    host, port = wallbox.api_address
    loads = start_loads(600, f"http://{host}:{port}/api/status")
    controller = wallbox.controller

    def wait(predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench stuck: {wallbox.status()}")
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
        requests = stop_loads(loads)
        loop.call_soon_threadsafe(loop.stop)

    every = [v for values in latencies.values() for v in values]
    with_csms = (
        "no CSMS"
        if csms is None
        else f"OCPP {args.ocpp} CSMS received {len(csms.received)} messages"
    )
    print(
        f"fault -> contactor open, {len(every)} injections in {elapsed:.0f} s, "
        f"controller at nice {nice}, {os.cpu_count()} CPU burners at nice 0, "
        f"API client made {requests} requests meanwhile, {with_csms}"
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
