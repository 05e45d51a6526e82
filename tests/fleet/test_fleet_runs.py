"""`pievse fleet` as a CSMS operator runs it, against the bench's CSMS in its own process:
a few hundred boxes booting under a deliberately slow CSMS report its latency and fault
none of their own meters; two shards take disjoint ids and their summaries merge; a fleet
over two processes serves Prometheus text; a reconnect storm is counted; 1.6 and 2.0.1
boxes mixed, with faults, in one fleet."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE, free_port

BENCH_CSMS = Path(__file__).resolve().parents[1] / "bench" / "fleet_csms.py"


class BenchCsms:
    def __init__(self, delay_ms: float) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH_CSMS), str(self.port), "--delay-ms", str(delay_ms)],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1.0)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"


@pytest.fixture
def slow_csms() -> Iterator[BenchCsms]:
    csms = BenchCsms(delay_ms=300)
    yield csms
    csms.process.kill()
    csms.process.wait()


@pytest.fixture
def bench_csms() -> Iterator[BenchCsms]:
    csms = BenchCsms(delay_ms=0)
    yield csms
    csms.process.kill()
    csms.process.wait()


def _fleet(csms_url: str, *flags: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    command = [*PIEVSE, "fleet", "--csms", csms_url, "--session-s", "100000", "--idle-s", "1"]
    done = subprocess.run([*command, *flags], capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stderr
    return done


def test_two_hundred_boxes_under_a_slow_csms_show_its_latency_and_no_meter_fault(
    tmp_path: Path, slow_csms: BenchCsms
) -> None:
    """Runs until every box charged and sent MeterValues (however slow the machine), then
    stops the fleet as a user would."""
    summary = tmp_path / "summary.json"
    command = [*PIEVSE, "fleet", "--csms", slow_csms.url, "--session-s", "100000"]
    command += ["--idle-s", "1", "--boxes", "200", "--boot-over-s", "10"]
    command += ["--meter-values-s", "10", "--summary", str(summary)]
    fleet = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 240
        while not _all_charging_and_metered(summary, 200):
            assert fleet.poll() is None and time.monotonic() < deadline, summary.read_text()
            time.sleep(2)
        fleet.send_signal(signal.SIGTERM)
        out, _ = fleet.communicate(timeout=120)
    finally:
        fleet.kill()
    assert fleet.returncode == 0
    report = json.loads(summary.read_text())
    boxes = report["boxes"]
    assert boxes["started"] == 200 and boxes["registered"] == 200, out
    assert boxes["meter_offline"] == 0 and report["own"]["meter_timeouts"] == 0, out
    boot = report["sent"]["BootNotification"]
    assert boot["ok"] == 200 and report["boots"] == {"Accepted": 200}
    fastest = min(int(bucket) for bucket in boot["latency"]["buckets"])
    assert 0.0001 * 1.05**fastest >= 0.3, "every answer waited the CSMS's 300 ms"
    assert "sent BootNotification: 200" in out


def _all_charging_and_metered(summary: Path, boxes: int) -> bool:
    try:
        report = json.loads(summary.read_text())
    except (OSError, ValueError):
        return False
    metered = report["sent"].get("MeterValues", {}).get("ok", 0)
    return report["boxes"]["charging"] == boxes and metered >= boxes


async def test_two_shards_take_disjoint_ids_and_their_summaries_merge(
    tmp_path: Path, csms: TestCsms
) -> None:
    files = [tmp_path / "a.json", tmp_path / "b.json"]
    runs = []
    for shard, path in zip(("0/2", "1/2"), files, strict=True):
        flags = ["--boxes", "5", "--shard", shard, "--boot-over-s", "1", "--duration-s", "10"]
        flags += ["--session-s", "100000", "--summary", str(path)]
        flags += ["--data-dir", str(tmp_path / shard.replace("/", "-"))]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        command = [*PIEVSE, "fleet", "--csms", csms.url, *flags]
        runs.append(asyncio.create_subprocess_exec(*command, **quiet))
    processes = await asyncio.gather(*runs)
    assert [await asyncio.wait_for(p.wait(), 60) for p in processes] == [0, 0]
    booted = sorted(r.charge_point for r in csms.received if r.action == "BootNotification")
    assert booted == [f"fleet-{i:04d}" for i in range(1, 6)], "each id once, in one shard"
    merge = subprocess.run(
        [*PIEVSE, "fleet-merge", *map(str, files), "--summary", str(tmp_path / "all.json")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert merge.returncode == 0, merge.stderr
    assert "5/5 started, 5 registered" in merge.stdout.splitlines()[0]
    merged = json.loads((tmp_path / "all.json").read_text())
    assert merged["processes"] == 2 and merged["sent"]["BootNotification"]["ok"] == 5
    bad = subprocess.run(
        [*PIEVSE, "fleet-merge", str(tmp_path / "a.json"), str(tmp_path / "missing.json")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 2 and "missing.json" in bad.stderr


def test_a_fleet_over_two_processes_serves_its_report_to_prometheus(
    tmp_path: Path, bench_csms: BenchCsms
) -> None:
    port = free_port()
    command = [*PIEVSE, "fleet", "--csms", bench_csms.url, "--boxes", "4", "--processes", "2"]
    command += ["--boot-over-s", "1", "--duration-s", "25", "--metrics", f"127.0.0.1:{port}"]
    command += ["--summary", str(tmp_path / "s.json"), "--session-s", "100000"]
    fleet = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        scraped = ""
        deadline = time.monotonic() + 60
        while 'pievse_fleet_boxes{state="registered"} 4' not in scraped:
            assert time.monotonic() < deadline, scraped
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    scraped = r.read().decode()
            except OSError:
                continue
        assert 'pievse_fleet_requests_total{action="BootNotification",outcome="ok"} 4' in scraped
        out, _ = fleet.communicate(timeout=120)
    finally:
        fleet.kill()
    assert fleet.returncode == 0
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["processes"] == 2 and report["boxes"]["started"] == 4, out


def test_a_reconnect_storm_and_mixed_versions_with_faults_are_counted(
    tmp_path: Path, bench_csms: BenchCsms
) -> None:
    summary = tmp_path / "s.json"
    flags = ["--boxes", "4", "--boot-over-s", "1", "--ocpp", "mixed", "--faulty-share", "1"]
    flags += ["--session-s", "30", "--reconnect-storm-s", "8", "--duration-s", "24"]
    done = _fleet(bench_csms.url, *flags, "--summary", str(summary))
    report = json.loads(summary.read_text())
    assert report["boots"] == {"Accepted": 4}, "a reconnect after acceptance boots no more"
    assert report["reconnects"] == 4, done.stdout
    assert report["sent"]["StartTransaction"]["ok"] == 2, "the two 1.6 boxes"
    assert report["sent"]["TransactionEvent"]["ok"] >= 2, "the two 2.0.1 boxes"
    assert report["sent"]["NotifyEvent"]["ok"] >= 1, "a 2.0.1 box's fault as a Problem"
