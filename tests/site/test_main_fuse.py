"""Main-fuse protection on the bench-sim board, the grid reading put over the local API as a
home energy system would: the offer follows the headroom, a stale reading falls back to
the failsafe current, bad readings change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pievse.firmware.config import ConfigError, parse_config
from tests.conftest import FAST_CONFIG, running_wallbox, start_charging
from tests.rigs.site_rig import house

HYSTERESIS_A = 0.5
"""[site] hysteresis_a, as shipped: a headroom less than this above the limit raises nothing."""
FUSE_CONFIG = (
    FAST_CONFIG
    + """
[site]
main_fuse_a = 25.0
grid_timeout_s = 1.0
failsafe_current_a = 6.0
ramp_up_a_per_s = 100.0
"""
)


async def test_the_offer_is_what_the_house_leaves_under_the_fuse(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FUSE_CONFIG) as bench, house(bench, [10.0] * 3) as load:
        charging = await start_charging(bench)
        assert charging["contactor"] == "closed"
        status = await bench.wait_for(lambda s: s["limit"]["source"] == "main_fuse")
        assert status["limit"]["current_a"] == pytest.approx(15.0, abs=0.3)
        sources = status["limit"]["sources"]
        assert sources["board"] == 32.0 and sources["main_fuse"] == status["limit"]["current_a"]
        assert "charging_mode" not in sources, "fast imposes nothing"
        fuse = status["site"]["main_fuse"]
        assert fuse["main_fuse_a"] == 25.0 and fuse["stale"] is False
        load[1] = 17.0  # a cooker on L2: only 8 A left there
        # At once and never above: the cut may land below by less than the fuse limit's
        # raise hysteresis (0.5 A), while the EV's falling draw still skews the estimate.
        status = await bench.wait_for(
            lambda s: 8.0 - HYSTERESIS_A <= s["pilot"]["offered_a"] <= 8.3, timeout=5
        )
        assert status["connectors"]["1"]["status"] == "Charging"
        load[1] = 22.0  # 3 A left: below 6 A the pilot suspends, the session stays
        status = await bench.wait_for(
            lambda s: s["connectors"]["1"]["status"] == "SuspendedEVSE", timeout=5
        )
        assert status["session"] is not None
        load[1] = 10.0
        await bench.wait_for(lambda s: s["pilot"]["offered_a"] >= 15.0 - HYSTERESIS_A, timeout=5)


async def test_a_stale_grid_reading_falls_back_to_the_failsafe_and_recovers(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path, FUSE_CONFIG) as bench:
        assert (await bench.status())["site"]["main_fuse"]["stale"] is True, "no reading yet"
        async with house(bench, [0.0] * 3):
            await start_charging(bench)
            await bench.wait_for(lambda s: s["pilot"]["offered_a"] >= 24.5, timeout=5)
        status = await bench.wait_for(lambda s: s["site"]["main_fuse"]["stale"], timeout=3)
        status = await bench.wait_for(
            lambda s: s["pilot"]["offered_a"] == pytest.approx(6.0, abs=0.2), timeout=3
        )
        assert (status["limit"]["current_a"], status["limit"]["source"]) == (6.0, "main_fuse")
        async with house(bench, [0.0] * 3):
            await bench.wait_for(lambda s: s["pilot"]["offered_a"] >= 24.5, timeout=5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"current_a": [1.0, 2.0]}, "expected 3 phases"),
        ({"current_a": "10"}, "expected a list of 3 numbers"),
        ({"current_a": [1, True, 3]}, "expected a list of 3 numbers"),
        ({"current_a": [1, 2, 1e9]}, "out of range"),
        ({"current_a": [1, 2, 3], "export_w": "lots"}, "export_w"),
        ({"current_a": [1, 2, 3], "phases": 3}, "unknown field 'phases'"),
    ],
)
async def test_a_bad_grid_reading_is_refused_and_changes_nothing(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    async with running_wallbox(tmp_path, FUSE_CONFIG) as bench:
        assert (await bench.put("/api/site/grid", {"current_a": [5, 6, 7]}))[0] == 200
        code, answer = await bench.put("/api/site/grid", body)
        assert code == 400 and message in answer["error"]
        assert (await bench.status())["site"]["grid_current_a"] == [5, 6, 7]


async def test_without_a_main_fuse_the_grid_reading_limits_nothing(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as bench:
        code, _ = await bench.put("/api/site/grid", {"current_a": [70, 70, 70]})
        assert code == 200
        status = await bench.status()
        assert status["site"]["main_fuse"] is None
        assert status["site"]["grid_current_a"] == [70, 70, 70]
        assert status["limit"]["source"] != "main_fuse"


@pytest.mark.parametrize(
    ("key", "value"),
    [("main_fuse_a", 3.0), ("failsafe_current_a", 4.0), ("grid_timeout_s", 0.0)],
)
def test_site_keys_out_of_range_are_config_errors(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"\\[site\\] {key}"):
        parse_config({"site": {key: value}})
