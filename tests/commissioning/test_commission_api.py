"""Commissioning on bench-sim over the local API: every step against the simulated plant,
and each injected fault failing the step that checks for it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BenchClient, ocpp_config, running_wallbox, start_charging
from tests.rigs.csms import TestCsms

STEPS = [
    "pilot +12 V",
    "pilot PWM levels",
    "RCD self-test",
    "contactor and mirror",
    "phase contactor",
    "lock",
    "meter",
    "grid meter",
    "temperatures",
    "CSMS",
    "clock",
]


def _by_step(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["step"]: step for step in report["steps"]}


async def test_a_healthy_bench_passes_and_the_report_is_kept(
    bench: BenchClient, tmp_path: Path
) -> None:
    code, answer = await bench.get("/api/commission")
    assert code == 404 and "POST /api/commission" in answer["error"]

    code, report = await bench.post("/api/commission", {})
    assert code == 200, report
    steps = _by_step(report)
    assert [s["step"] for s in report["steps"]] == STEPS
    assert report["result"] == "pass"
    skipped = {name: s["reason"] for name, s in steps.items() if s["outcome"] == "skipped"}
    assert skipped == {
        "grid meter": "the bench's grid meter answers once the bench has a site "
        "(POST /api/bench/site)",
        "CSMS": "no CSMS configured ([ocpp] csms_url)",
    }
    assert steps["pilot PWM levels"]["measured"].startswith("state A, high +12.00 V, low -12.00 V")
    assert "L1 230.0 V, L2 230.0 V, L3 230.0 V, 50.00 Hz" in steps["meter"]["measured"]

    code, kept = await bench.get("/api/commission")
    assert code == 200 and kept == report
    assert json.loads((tmp_path / "data" / "commissioning.json").read_text()) == report
    after = await bench.status()
    assert after["contactor"] == "open" and after["connectors"]["1"]["status"] == "Available"
    assert after["faults"] == []


@pytest.mark.parametrize(
    ("fault", "step"),
    [
        ("rcd", "RCD self-test"),
        ("diode", "pilot PWM levels"),
        ("contactor_weld", "contactor and mirror"),
        ("meter_offline", "meter"),
        ("overtemperature", "temperatures"),
        ("lock", "lock"),
        ("phase_contactor_weld", "phase contactor"),
        ("phase_contactor_stuck_open", "phase contactor"),
    ],
)
async def test_an_injected_fault_fails_its_step(bench: BenchClient, fault: str, step: str) -> None:
    await bench.bench("fault", fault=fault, active=True)
    code, report = await bench.post("/api/commission", {})
    assert code == 200, report
    assert report["result"] == "fail"
    failed = [s["step"] for s in report["steps"] if s["outcome"] == "fail"]
    assert step in failed, report
    assert failed == [step] or fault in ("rcd", "contactor_weld"), report
    assert _by_step(report)[step]["reason"]


async def test_the_grid_meter_is_read_once_the_bench_has_a_site(bench: BenchClient) -> None:
    await bench.post("/api/bench/site", {"house_a": [10, 4, 4]})
    code, report = await bench.post("/api/commission", {})
    assert code == 200
    grid = _by_step(report)["grid meter"]
    assert grid["outcome"] == "pass", grid
    assert grid["measured"] == "L1 230.0 V, L2 230.0 V, L3 230.0 V, 50.00 Hz"


async def test_with_an_ev_connected_the_outputs_are_left_alone(bench: BenchClient) -> None:
    await bench.bench("ev", state="B")
    await bench.wait_status("1", "Preparing")
    code, report = await bench.post("/api/commission", {})
    assert code == 200
    steps = _by_step(report)
    assert steps["pilot +12 V"]["outcome"] == "skipped"
    assert steps["pilot +12 V"]["reason"] == "an EV is connected (pilot state B)"
    assert steps["pilot PWM levels"]["outcome"] == "skipped"
    assert steps["contactor and mirror"]["outcome"] == "skipped"
    assert "an EV is connected" in steps["contactor and mirror"]["reason"]
    status = await bench.status()
    assert status["contactor"] == "open"


async def test_refused_while_a_session_charges(bench: BenchClient) -> None:
    await start_charging(bench)
    code, answer = await bench.post("/api/commission", {})
    assert code == 409
    assert "a charging session is running" in answer["error"]
    status = await bench.status()
    assert status["contactor"] == "closed"
    assert status["connectors"]["1"]["status"] == "Charging"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"", "JSON object"), (b"[]", "JSON object"), (b'{"fast": true}', "unknown field 'fast'")],
)
async def test_a_bad_body_is_refused(bench: BenchClient, body: bytes, message: str) -> None:
    json_body = {"Content-Type": "application/json"}
    async with bench.http.post(
        f"{bench.base}/api/commission", data=body, headers=json_body
    ) as response:
        assert response.status == 400
        assert message in (await response.json())["error"]
    async with bench.http.post(f"{bench.base}/api/commission", data=b"{}") as response:
        assert response.status == 415, "a write must say it is JSON"
    code, _ = await bench.get("/api/commission")
    assert code == 404, "nothing ran"


async def test_the_csms_step_reads_the_configured_link(tmp_path: Path, csms: TestCsms) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_status(1, "Available")
        code, report = await box.post("/api/commission", {})
    step = _by_step(report)["CSMS"]
    assert code == 200 and step["outcome"] == "pass", step
    assert f"{csms.url}" in step["measured"] and "security profile 0" in step["measured"]
    assert step["measured"].endswith("registration accepted")


class _BrokenInput:
    """A GPIO input whose read fails (an unexported pin, a dead expander)."""

    def read(self) -> bool:
        raise OSError("input read failed")


async def test_a_device_that_raises_fails_its_step_and_the_run_goes_on(
    bench: BenchClient,
) -> None:
    lock = bench.wallbox.board.lock
    working = lock._feedback  # type: ignore[union-attr]
    lock._feedback = _BrokenInput()  # type: ignore[union-attr]
    try:
        code, report = await bench.post("/api/commission", {})
    finally:
        lock._feedback = working  # type: ignore[union-attr]
    assert code == 200
    steps = _by_step(report)
    assert steps["lock"]["outcome"] == "fail"
    assert steps["lock"]["reason"] == "OSError: input read failed"
    assert [s["step"] for s in report["steps"]] == STEPS
    assert steps["meter"]["outcome"] == "pass"
    assert (await bench.status())["contactor"] == "open"


async def test_a_second_run_is_refused_while_one_goes_on(bench: BenchClient) -> None:
    first, second = await asyncio.gather(
        bench.post("/api/commission", {}), bench.post("/api/commission", {})
    )
    codes = sorted([first[0], second[0]])
    assert codes == [200, 409]
    refused = first[1] if first[0] == 409 else second[1]
    assert refused == {"error": "commissioning is already running"}


async def test_a_pilot_held_at_f_for_a_fault_is_said_so_not_judged(bench: BenchClient) -> None:
    await bench.bench("fault", fault="contactor_weld", active=True)
    await bench.wait_for(lambda s: "contactor_weld" in s["faults"])
    code, report = await bench.post("/api/commission", {})
    assert code == 200
    steps = _by_step(report)
    for name in ("pilot +12 V", "pilot PWM levels"):
        assert steps[name]["outcome"] == "skipped", steps[name]
        assert (
            "holds the pilot at state F for a latched fault (contactor_weld"
            in (steps[name]["reason"])
        )
    assert steps["pilot +12 V"]["measured"].startswith("state F, high -12.00 V")
    assert [s["step"] for s in report["steps"] if s["outcome"] == "fail"] == [
        "contactor and mirror"
    ]
