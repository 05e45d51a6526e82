"""The bench-sim board's own site: its grid meter (unit 2 on the emulated meter line) reads a
house and PV the bench sets live or plays from a scenario day, and the EV on top. Main-fuse
protection and the PV modes work from it with nothing put over `PUT /api/site/grid`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_CONFIG, running_wallbox, start_charging

FUSE = FAST_CONFIG + "\n[site]\nmain_fuse_a = 25.0\nramp_up_a_per_s = 100.0\n"


async def test_without_a_site_the_grid_meter_is_silent_and_a_live_house_sets_the_headroom(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path, FUSE) as bench:
        status = await bench.wait_for(lambda s: s["site"]["main_fuse"]["stale"])
        assert status["site"]["grid_current_a"] is None, "no site yet: the failsafe"
        code, answer = await bench.post("/api/bench/site", {"house_a": [10, 4, 4]})
        assert code == 200, answer
        assert answer["site"] == {
            "active": True,
            "house_a": [10.0, 4.0, 4.0],
            "pv_w": 0.0,
            "scenario": None,
            "speed": None,
            "at_s": None,
        }
        await start_charging(bench)
        status = await bench.wait_for(
            lambda s: s["limit"]["sources"].get("main_fuse") == pytest.approx(15.0, abs=0.3),
            timeout=5,
        )
        own = status["meter"]["current_a"]
        await bench.wait_for(
            lambda s: (
                s["site"]["grid_current_a"]
                == pytest.approx([10 + own[0], 4 + own[1], 4 + own[2]], abs=0.5)
            ),
            timeout=3,
        )
        await bench.post("/api/bench/site", {"house_a": [22, 4, 4]})
        await bench.wait_for(
            lambda s: s["pilot"]["offered_a"] == 0.0 or s["limit"]["current_a"] <= 3.5,
            timeout=3,
        )


async def test_a_scenario_day_plays_on_the_bench_grid_meter(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FUSE) as bench:
        body = {"scenario": "sunny_day", "speed": 100, "at_s": 12 * 3600}
        code, answer = await bench.post("/api/bench/site", body)
        assert code == 200, answer
        assert answer["site"]["scenario"] == "sunny_day"
        status = await bench.wait_for(lambda s: s["site"]["grid_export_w"] is not None, timeout=5)
        assert status["site"]["grid_export_w"] > 3000, "noon on a sunny day exports"
        await asyncio.sleep(0.6)
        _, later = await bench.post("/api/bench/temperature", {"celsius": 25})
        assert later["site"]["at_s"] >= 12 * 3600 + 60, "100 scenario seconds per second"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"house_a": [1, 2]}, "house_a must have 3 phases"),
        ({"house_a": [1, 2, -3]}, "house_a must be 0..200"),
        ({"house_a": "lots"}, "house_a must be a list of 3 numbers"),
        ({"pv_w": 1e9}, "pv_w must be 0..100000 W"),
        ({"scenario": "rainy"}, "no scenario 'rainy'"),
        ({"scenario": "sunny_day", "pv_w": 10}, "give it alone"),
        ({"scenario": "sunny_day", "speed": 0}, "speed must be a number"),
        ({}, "give house_a, pv_w or a scenario"),
    ],
)
async def test_a_bad_site_request_is_refused_and_changes_nothing(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        await bench.post("/api/bench/site", {"house_a": [1, 1, 1], "pv_w": 500})
        code, answer = await bench.post("/api/bench/site", body)
        assert code == 400
        assert message in answer["error"]
        _, ok = await bench.post("/api/bench/site", {"pv_w": 500})
        assert ok["site"]["house_a"] == [1.0, 1.0, 1.0], "the refused request changed nothing"


async def test_the_silent_bench_grid_meter_is_explained_not_reported_as_a_fault(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pievse.firmware.site.grid_meter")
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        await bench.wait_for(lambda _s: "grid meter: silent until" in caplog.text)
        assert "the bench has a site" in caplog.text
        assert "exception reply" not in caplog.text, "a silence by design reads as no fault"
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
