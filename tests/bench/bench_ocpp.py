"""OCPP figures of the real `pievse run` process against a CSMS on loopback.

Run: python tests/bench/bench_ocpp.py [--boots 5] [--minutes 10] [--flood 100000]
       [--version 1.6|2.0.1]

- start of process -> BootNotification received by the CSMS (median of `--boots` runs);
- the process runs as deployed: with the systemd unit's Environment= lines, and with the
  PYTHONOPTIMIZE=2 bytecode install.sh compiles (here into a temporary PYTHONPYCACHEPREFIX);
- a charging session of `--minutes` with MeterValueSampleInterval = 10 s on the default
  config (100 ms tick, 1 s meter poll): RSS at the end (VmRSS) and CPU % of one core over
  the session (utime + stime from /proc);
- then `--flood` invalid frames (`{}`) from the CSMS while it charges: RSS before, right
  after the last answer, and a trim period later; the session must still be charging.
Targets: < 1.5 s, <= 45 MB, <= 3 %; the flood leaves RSS where it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ocpp.v16 import call  # noqa: E402
from ocpp.v201 import call as call201  # noqa: E402

from pievse.firmware.app.heap_trim import TRIM_EVERY_S  # noqa: E402
from tests.rigs.csms import TestCsms  # noqa: E402
from tests.rigs.csms201 import TestCsms201  # noqa: E402
from tests.rigs.proc_stats import cpu_s, rss_mb  # noqa: E402
from tests.rigs.process import free_port, run_with_csms  # noqa: E402

SETTLE_S = TRIM_EVERY_S + 5
PYCACHE = Path(tempfile.mkdtemp(prefix="pievse-pycache-"))


def service_environment() -> dict[str, str]:
    """The Environment= lines of the systemd unit: measure the process as it is deployed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    for line in (ROOT / "deploy" / "pievse.service").read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value
    return env


def compile_as_installed() -> None:
    """What install.sh does for the release's venv: bytecode for PYTHONOPTIMIZE=2."""
    paths = [*(p for p in sys.path if p.endswith("site-packages")), str(ROOT)]
    subprocess.run(
        [sys.executable, "-OO", "-m", "compileall", "-q", "-j", "0", *paths],
        env=service_environment(),
        stdout=subprocess.DEVNULL,
        check=False,
    )


def _csms(version: str) -> TestCsms:
    return TestCsms201() if version == "2.0.1" else TestCsms()


async def _start(csms: TestCsms, data_dir: Path, api_port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *run_with_csms(csms.url, data_dir, api_port, csms.SUBPROTOCOL.removeprefix("ocpp")),
        cwd=ROOT,
        env=service_environment(),
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), 20)


def _post(port: int, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).read()


async def boot_times(runs: int, version: str) -> list[float]:
    times = []
    for _ in range(runs):
        csms = _csms(version)
        await csms.start()
        with tempfile.TemporaryDirectory() as data:
            started = time.monotonic()
            process = await _start(csms, Path(data), free_port())
            await csms.wait_for("BootNotification", timeout=30)
            times.append(csms.received[0].at - started)
            await _stop(process)
        await csms.stop()
    return times


async def flood(csms: TestCsms, pid: int, frames: int, api_port: int) -> list[str]:
    side = await csms.connected()
    before_rss, started = rss_mb(pid), time.monotonic()
    answered = len(csms.raw_answers)
    for n in range(frames):
        await side._connection.send("{}")
        if n % 1000 == 999:
            while len(csms.raw_answers) < answered + n - 5000:
                await asyncio.sleep(0.01)  # the box answers each one; keep 5000 in flight
    while len(csms.raw_answers) < answered + frames:
        await asyncio.sleep(0.05)
    took, after_rss = time.monotonic() - started, rss_mb(pid)
    await asyncio.sleep(SETTLE_S)
    settled_rss = rss_mb(pid)
    status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{api_port}/api/status"))
    events = len(csms.of("SecurityEventNotification"))
    return [
        f"flood of {frames} invalid frames answered in {took:.1f} s "
        f"({frames / took:.0f} frames/s): RSS {before_rss:.1f} MB before, "
        f"{after_rss:.1f} MB right after, {settled_rss:.1f} MB {SETTLE_S:.0f} s later",
        f"  still {status['connectors']['1']['status']} with the contactor "
        f"{status['contactor']}; {events} SecurityEventNotifications in all, "
        f"{status['ocpp']['dropped']} messages dropped",
    ]


async def _sample_every_10_s(csms: TestCsms) -> None:
    if isinstance(csms, TestCsms201):
        await csms.call(
            call201.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedInterval"},
                        "attributeValue": "10",
                    }
                ]
            )
        )
    else:
        await csms.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="10"))


def _meter_values(csms: TestCsms) -> int:
    """MeterValues of the transaction (1.6), or Updated events carrying them (2.0.1)."""
    if isinstance(csms, TestCsms201):
        return sum(1 for e in csms.events() if e["trigger_reason"] == "MeterValuePeriodic")
    return len(csms.of("MeterValues"))


async def session(minutes: float, frames: int, version: str) -> tuple[float, float, int, list[str]]:
    csms = _csms(version)
    await csms.start()
    api_port = free_port()
    with tempfile.TemporaryDirectory() as data:
        process = await _start(csms, Path(data), api_port)
        try:
            await csms.wait_status(1, "Available", timeout=30)
            await _sample_every_10_s(csms)
            _post(api_port, "/api/bench/ev", {"state": "C"})
            _post(api_port, "/api/bench/tag", {"id_tag": "BENCH"})
            charging = "Occupied" if version == "2.0.1" else "Charging"
            await csms.wait_status(1, charging, timeout=30)
            cpu_before, wall_before = cpu_s(process.pid), time.monotonic()
            await asyncio.sleep(minutes * 60)
            cpu = cpu_s(process.pid) - cpu_before
            wall = time.monotonic() - wall_before
            rss = rss_mb(process.pid)
            values = _meter_values(csms)
            flooded = await flood(csms, process.pid, frames, api_port) if frames else []
        finally:
            await _stop(process)
    await csms.stop()
    return rss, 100.0 * cpu / wall, values, flooded


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--flood", type=int, default=100_000)
    parser.add_argument("--version", choices=("1.6", "2.0.1"), default="1.6")
    args = parser.parse_args()
    compile_as_installed()
    print(f"OCPP {args.version}")
    times = await boot_times(args.boots, args.version)
    print(
        f"start of process -> BootNotification: median {statistics.median(times):.3f} s "
        f"over {len(times)} runs (min {min(times):.3f}, max {max(times):.3f}); target < 1.5 s"
    )
    rss, cpu, values, flooded = await session(args.minutes, args.flood, args.version)
    print(
        f"charging session of {args.minutes:g} min, meter values every 10 s "
        f"({values} received): RSS {rss:.1f} MB (target <= 45), "
        f"CPU {cpu:.2f} % of one core (target <= 3)"
    )
    print("\n".join(flooded))


if __name__ == "__main__":
    asyncio.run(main())
