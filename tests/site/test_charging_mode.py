"""Charging modes over the local API on the bench-sim board: off pauses and fast resumes the
same session, a setpoint caps, pv follows the surplus with its delays, the mode survives a
restart, bad requests change nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_CONFIG, BenchClient, running_wallbox, start_charging
from tests.rigs.site_rig import sunny

PV_CONFIG = (
    FAST_CONFIG
    + """
[site]
grid_timeout_s = 2.0
pv_enable_delay_s = 0.5
pv_disable_delay_s = 0.5
pv_min_charge_s = 0.0
pv_smoothing_s = 0.0
"""
)
VOLTS_PHASES = 230.0 * 3


async def _mode(bench: BenchClient, **body: Any) -> dict[str, Any]:
    code, answer = await bench.put("/api/mode", body)
    assert code == 200, answer
    return answer


async def test_off_pauses_and_fast_resumes_the_same_session(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        charging = await start_charging(bench)
        session = charging["session"]["id"]
        assert await _mode(bench, mode="off") == {"mode": "off", "setpoint_a": None}
        status = await bench.wait_for(
            lambda s: s["connectors"]["1"]["status"] == "SuspendedEVSE" and s["contactor"] == "open"
        )
        assert status["session"]["id"] == session
        assert (status["limit"]["current_a"], status["limit"]["source"]) == (0.0, "charging_mode")
        await _mode(bench, mode="fast")
        status = await bench.wait_status("1", "Charging")
        assert status["session"]["id"] == session


async def test_a_setpoint_caps_the_offer_and_the_mode_survives_a_restart(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        await start_charging(bench)
        await _mode(bench, mode="fast", setpoint_a=10)
        status = await bench.wait_for(lambda s: s["limit"]["source"] == "setpoint")
        assert status["limit"]["current_a"] == 10.0
        await _mode(bench, mode="off")
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        assert await bench.get("/api/mode") == (200, {"mode": "off", "setpoint_a": 10.0})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"mode": "turbo"}, "mode: expected one of fast, pv, min_pv, off"),
        ({"setpoint_a": 3}, "setpoint_a: expected 6..80 A"),
        ({"setpoint_a": "ten"}, "setpoint_a: expected a number"),
        ({"mode": "pv", "boost": True}, "unknown field 'boost'"),
    ],
)
async def test_a_bad_mode_request_is_refused_and_changes_nothing(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        await _mode(bench, mode="min_pv", setpoint_a=12)
        code, answer = await bench.put("/api/mode", body)
        assert code == 400 and message in answer["error"]
        assert await bench.get("/api/mode") == (200, {"mode": "min_pv", "setpoint_a": 12.0})


async def test_pv_charges_from_the_surplus_only_and_stops_when_it_is_gone(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path, PV_CONFIG) as bench:
        await _mode(bench, mode="pv")
        async with sunny(bench, pv_w=8000.0, house_w=1100.0) as day:
            await bench.bench("ev", state="B")
            await bench.bench("tag", id_tag="CARD-1")
            await bench.bench("ev", state="C")
            surplus_a = (8000.0 - 1100.0) / VOLTS_PHASES
            status = await bench.wait_status("1", "Charging", timeout=5)
            assert status["limit"]["source"] == "charging_mode"
            assert status["limit"]["current_a"] == pytest.approx(surplus_a, abs=0.3)
            assert status["site"]["pv_charging"] is True
            day["pv_w"] = 1500.0  # a cloud that stays: no surplus left
            status = await bench.wait_for(
                lambda s: (
                    s["connectors"]["1"]["status"] == "SuspendedEVSE" and s["contactor"] == "open"
                ),
                timeout=5,
            )
            assert status["session"] is not None


async def test_pv_without_an_export_reading_never_charges(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, PV_CONFIG) as bench:
        await _mode(bench, mode="pv")
        await bench.bench("ev", state="B")
        await bench.bench("tag", id_tag="CARD-1")
        await bench.bench("ev", state="C")
        await asyncio.sleep(1.0)
        status = await bench.wait_status("1", "SuspendedEVSE")
        assert status["contactor"] == "open", "never closed: the offer never started"
        assert (status["limit"]["current_a"], status["limit"]["source"]) == (0.0, "charging_mode")
