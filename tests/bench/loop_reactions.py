"""One load of `bench_fault_latency.py --reactions`: a bench-sim box in this process (its
outside loop on a thread, as `pievse run` has it), one load of `reaction_loads.py` beside it,
and the reactions the control step decides, injected from the main thread as the plant's
inputs change. Prints one JSON line: milliseconds per reaction, the box's memory while
charging.

Run alone: python tests/bench/loop_reactions.py --load flood [--injections 30] [--budget-s 300]

`load_ran` says how much work the load did meanwhile (frames answered, streams open,
signature checks, CPU burners still burning); a load that ran nothing exits with status 3,
as no figure under it means anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.firmware.app.run_options import RunOptions  # noqa: E402
from pievse.firmware.app.wallbox import Wallbox  # noqa: E402
from tests.bench import reaction_loads as loads  # noqa: E402

REACTION_WAIT_S = 30.0
NOTHING_RAN = 3
"""Exit status of a run whose load did no work."""
REACTIONS = ("unplug", "state_e", "state_f", "diode", "overcurrent", "step_fault")


class Probe:
    """Timestamps the coil's first opening after arming."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0

    def arm(self) -> None:
        self.event.clear()

    def __call__(self, signal: str, value: float) -> None:
        if signal == "contactor_coil" and value == 0.0 and not self.event.is_set():
            self.at = time.perf_counter()
            self.event.set()


class Marks:
    """When the input the box reacts to became visible to it: the first meter reading that
    shows the overdraw, the step that raised."""

    def __init__(self) -> None:
        self.overdraw = False
        self.step_fault = False
        self.seen_at: float | None = None

    def reset(self) -> None:
        self.overdraw = self.step_fault = False
        self.seen_at = None

    def seen(self) -> None:
        if self.seen_at is None:
            self.seen_at = time.perf_counter()


def instrument(wallbox: Wallbox, marks: Marks) -> None:
    """The meter's values as the emulator serves them, and the step's temperature check, so
    a reading and a raise are timestamped where they happen."""
    plant = wallbox.board.bench
    values = plant.meter_values

    def meter_values() -> dict[str, float]:
        result = values()
        if marks.overdraw:
            marks.seen()
        return result

    plant.meter_values = meter_values  # type: ignore[method-assign]
    core = getattr(wallbox.controller, "core", None)  # None: before the core had its thread
    checks = wallbox.controller._inputs if core is None else core.inputs
    temperatures = checks.temperatures

    def failing_temperatures() -> None:
        if marks.step_fault:
            marks.seen()
            raise RuntimeError("bench: a fault raised inside the control step")
        temperatures()

    checks.temperatures = failing_temperatures  # type: ignore[method-assign]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_load(
    load: str, wallbox: Wallbox, loop: asyncio.AbstractEventLoop, data: Path
) -> tuple[list[Any], dict[str, Any]]:
    """The load beside the running box; returns what to stop and what to report."""
    notes: dict[str, Any] = {}
    if load == "events":
        host, port = wallbox.api_address
        process, opened = loads.start_event_streams(host, port)
        notes["streams_open"] = opened
        return [process], notes
    if load == "cpu":
        return loads.start_cpu_burners(), notes
    if load == "signature":
        check = loads.signed_bundle(data)
        counter = [0]
        stop = threading.Event()
        task = asyncio.run_coroutine_threadsafe(loads.check_forever(check, counter, stop), loop)
        notes["checks"], notes["stop"], notes["task"] = counter, stop, task
        return [], notes
    return [], notes


def signature_outcome(more: dict[str, Any]) -> dict[str, Any]:
    """Stops the checks; how many ran, and why they ended if one raised."""
    more["stop"].set()
    task: Future[None] = more["task"]
    outcome: dict[str, Any] = {"signature_checks": more["checks"][0]}
    try:
        task.result(timeout=30)
    except Exception as exc:  # the update path's Canceled, once stopped, is the normal end
        if type(exc).__name__ != "Canceled":
            outcome["load_error"] = f"{type(exc).__name__}: {exc}"
    return outcome


def inject(kind: str, plant: Any, probe: Probe, marks: Marks) -> float:
    """One reaction; milliseconds from the input to the coil opening."""
    marks.reset()
    probe.arm()
    t0 = time.perf_counter()
    if kind == "unplug":
        plant.set_ev("A", None, None)
    elif kind == "state_e":
        plant.set_ev("E", None, None)
    elif kind == "state_f":
        plant.set_ev("F", None, None)
    elif kind == "diode":
        plant.set_fault("diode", True)
    elif kind == "overcurrent":
        marks.overdraw = True
        plant.set_overdraw(12.0)
    else:
        marks.step_fault = True
    if not probe.event.wait(REACTION_WAIT_S):
        raise RuntimeError(f"{kind}: the contactor did not open within {REACTION_WAIT_S} s")
    start = marks.seen_at if kind in ("overcurrent", "step_fault") else t0
    marks.reset()
    return (probe.at - (start or t0)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", choices=loads.LOADS, required=True)
    parser.add_argument("--injections", type=int, default=30)
    parser.add_argument(
        "--budget-s", type=float, default=300.0, help="stop injecting once this much has passed"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    loads.raise_file_limit(loads.EVENT_STREAMS)
    data = Path(tempfile.mkdtemp(prefix="pievse-reactions-"))
    config = data / "bench.toml"
    text = "[control]\nfault_retry_s = 0.05\n[meter]\npoll_interval_s = 0.1\n"
    flood = None
    if args.load == "flood":
        flood, url = loads.start_flood_csms()
        # Free vend: the flood may cost the link its connection; cycles must not wait on it.
        text += f'[ocpp]\ncsms_url = "{url}"\n[security]\nprofile = 0\n'
        text += '[standalone]\nfree_vend_id_tag = "BENCH"\n'
    config.write_text(text)
    wallbox = Wallbox(RunOptions(config=config, data_dir=data / "box", api="127.0.0.1:0"))
    plant = wallbox.board.bench
    probe = Probe()
    marks = Marks()
    plant.probe_outputs(probe)
    instrument(wallbox, marks)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(wallbox.start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True, name="outside").start()
    ready.wait(20)
    controller = wallbox.controller
    notes: dict[str, Any] = {"load": args.load}
    if flood is not None:
        notes["frame_bytes"] = loads.flood_frame_bytes(flood)
    running, more = start_load(args.load, wallbox, loop, data)
    burners = running if args.load == "cpu" else []
    if flood is not None:
        running.append(flood)

    def wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                state = controller.state
                raise RuntimeError(
                    f"bench stuck ({args.load}): {controller.connector_status()}, pilot "
                    f"{state.pilot.state}, faults {sorted(state.faults)}, session "
                    f"{controller.session is not None}, duty {state.duty}"
                )
            time.sleep(0.002)

    def charging() -> None:
        plant.set_ev("A", None, None)
        wait(lambda: controller.connector_status().status == "Available")
        plant.set_ev("B", None, None)
        if flood is None:
            plant.present_tag("BENCH")
        wait(lambda: controller.session is not None)
        plant.set_ev("C", None, None)
        wait(lambda: plant.output("contactor_coil"))

    latencies: dict[str, list[float]] = {kind: [] for kind in REACTIONS}
    rss: list[int] = []
    budget_ends = time.monotonic() + args.budget_s
    try:
        time.sleep(1.0)
        for i in range(args.injections * len(REACTIONS)):
            if time.monotonic() > budget_ends:
                notes["budget_spent_after_cycles"] = i
                break
            kind = REACTIONS[i % len(REACTIONS)]
            charging()
            rss.append(rss_kib())
            time.sleep(0.003 + (i % 37) / 370 * 0.1)  # land anywhere within a tick
            latencies[kind].append(inject(kind, plant, probe, marks))
            plant.set_overdraw(0.0)
            plant.set_fault("diode", False)
            plant.set_ev("A", None, None)
    except RuntimeError as exc:  # a box too slow to cycle: report what was measured
        notes["error"] = str(exc)
    finally:
        burning = sum(1 for process in burners if process.poll() is None)
        outputs = loads.stop_processes(running)
        if "task" in more:
            notes |= signature_outcome(more)
    ran = burning if args.load == "cpu" else 0
    if "signature_checks" in notes:
        ran = notes["signature_checks"]
    if "streams_open" in more:
        ran = notes["streams_open"] = more["streams_open"]
    if flood is not None and outputs and outputs[-1]:
        notes["frames_answered"] = outputs[-1].splitlines()[-1]
        ran = int(notes["frames_answered"].split()[0])
    if args.load != "none":
        notes["load_ran"] = ran
    notes["rss_charging_kib"] = max(rss, default=0)
    late = sorted(v * 1000 for v in controller.tick_lateness_s)
    if late:
        notes["tick_late_ms_p99_max"] = [
            round(late[int(0.99 * (len(late) - 1))], 2),
            round(late[-1], 2),
        ]
    print(json.dumps({"latencies_ms": latencies, **notes}))
    (data / loads.BUNDLE_FILE).unlink(missing_ok=True)  # 250 MB; the box still logs beside it
    if args.load != "none" and ran == 0:
        sys.exit(NOTHING_RAN)


if __name__ == "__main__":
    main()
