"""What the shared core does the same under either front, on the real wire of each: the
offline queue and its replay, the outbox across a power cut, status timing, a charging
profile on the pilot, a fault on the connector."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BenchClient
from tests.csms.conftest import Front
from tests.rigs.process import free_port, run_with_csms


async def _offline_session(box: BenchClient, front: Front) -> None:
    """The CSMS goes away, then a session starts (an unknown tag is allowed offline)."""
    await front.configure(AllowOfflineTxForUnknownId="true", MeterValueSampleInterval="1")
    await front.csms.stop()
    await front.csms.drop_connection()
    await box.wait_for(lambda s: not s["ocpp"]["connected"])
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="OFFLINE")
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging")


async def test_offline_replay_is_the_status_now_then_the_transaction_in_order(
    box: BenchClient, front: Front
) -> None:
    await _offline_session(box, front)
    await box.wait_for(lambda s: s["ocpp"]["queued"] >= 3, timeout=5)  # start + values
    await box.bench("ev", state="A")
    await box.wait_for(lambda s: s["session"] is None)
    queued = (await box.status())["ocpp"]["queued"]
    mark = len(front.csms.received)
    await front.csms.start_on(front.csms.port)
    await front.wait_end(since=mark)
    actions = front.csms.actions(mark)
    assert "BootNotification" not in actions, "registered once per process start"
    assert actions[0] == "StatusNotification", "what is now comes before what happened"
    assert front.connector_statuses(mark)[0] == front.idle()
    transaction = front.transaction(mark)
    assert transaction[0] == "start" and transaction[-1] == "end"
    assert set(transaction[1:-1]) == {"value"}
    assert len(transaction) + actions.count("StatusNotification") >= queued
    assert front.busy() not in front.connector_statuses(mark), "not the outage's history"
    if front.modern:
        events = front.csms.of("TransactionEvent", mark)
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        assert all(e.get("offline") is True for e in events)


class _Process:
    """`pievse run` as systemd starts it, on a data directory that outlives it."""

    def __init__(self, front: Front, data: Path) -> None:
        self.port = free_port()
        command = run_with_csms(front.csms.url, data, self.port, front.version)
        self.process = subprocess.Popen(
            command,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    async def wait_for(self, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = await asyncio.to_thread(self.call, "/api/status")
                if predicate(status):
                    return status
            except OSError:
                assert self.process.poll() is None, "pievse ended"
            assert time.monotonic() < deadline, "condition not met"
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


async def test_the_outbox_outlives_a_power_cut(tmp_path: Path, front: Front) -> None:
    """Messages queued offline are in SQLite: a power cut (SIGKILL) loses none of them, and
    the next start ends the cut session as PowerLoss after them."""
    first = _Process(front, tmp_path)
    try:
        await first.wait_for(lambda s: s["ocpp"]["registration"] == "accepted")
        await front.configure(AllowOfflineTxForUnknownId="true", MeterValueSampleInterval="1")
        await front.csms.stop()
        await front.csms.drop_connection()
        await first.wait_for(lambda s: not s["ocpp"]["connected"])
        first.call("/api/bench/ev", {"state": "C"})
        first.call("/api/bench/tag", {"id_tag": "OFFLINE"})
        await first.wait_for(lambda s: s["ocpp"]["queued"] >= 2)
    finally:
        first.kill()
    mark = len(front.csms.received)
    await front.csms.start_on(front.csms.port)
    second = _Process(front, tmp_path)
    try:
        end = await front.wait_end(since=mark, timeout=30)
        assert front.stop_reason(end) == "PowerLoss"
        transaction = front.transaction(mark)
        assert transaction.count("start") == 1 and transaction.count("end") == 1
        assert transaction[0] == "start" and transaction[-1] == "end"
    finally:
        second.stop()


async def test_a_status_that_does_not_hold_for_the_minimum_duration_is_not_reported(
    box: BenchClient, front: Front
) -> None:
    box.wallbox.keys.set("MinimumStatusDuration", "2")
    mark = len(front.csms.received)
    await box.bench("ev", state="B")
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Preparing")
    await box.bench("ev", state="A")
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Available")
    await asyncio.sleep(2.5)
    assert front.busy() not in front.connector_statuses(mark), "a blip is not reported"
    await box.bench("ev", state="B")
    began = time.monotonic()
    await front.csms.wait_status(1, front.busy(), since=mark, timeout=6)
    assert time.monotonic() - began >= 1.5, "held for MinimumStatusDuration first"


async def test_a_station_maximum_profile_sets_the_pilot_duty(
    box: BenchClient, front: Front
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging")
    await front.limit_station(10.0)
    status = await box.wait_for(
        lambda s: s["pilot"]["duty_percent"] == pytest.approx(10 / 0.6, abs=0.01)
    )
    assert status["limit"]["source"] == "charging_profile"


async def test_a_fault_makes_the_outlet_faulted_and_says_why(
    box: BenchClient, front: Front
) -> None:
    mark = len(front.csms.received)
    await box.bench("fault", fault="rcd", active=True)
    faulted = await front.csms.wait_status(1, "Faulted", since=mark)
    if front.modern:
        event = await front.csms.wait_for("NotifyEvent", since=mark)
        (data,) = event["event_data"]
        assert (data["variable"], data["tech_code"]) == ({"name": "Problem"}, "GroundFailure")
    else:
        assert faulted["error_code"] == "GroundFailure"
    await box.bench("fault", fault="rcd", active=False)
    await front.csms.wait_status(1, "Available", since=mark)
