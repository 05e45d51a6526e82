"""K12, K13: the box's main fuse told to a 2.0.1 CSMS as an external (EMS) charging limit
while it holds the pilot down, again when it moves by more than LimitChangeSignificance,
cleared when it no longer binds."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.ocpp201.external_limits import notice
from tests.conftest import ocpp_config, running_wallbox, start_charging
from tests.rigs.csms201 import TestCsms201, charging_profile

FUSE = "\n[site]\nmain_fuse_a = 25.0\nramp_up_a_per_s = 100.0\n"


def told(csms: TestCsms201, since: int) -> list[float]:
    return [
        p["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
        for p in csms.of("NotifyChargingLimit", since)
    ]


async def test_the_main_fuse_is_an_ems_limit_while_it_binds(
    tmp_path: Path, csms: TestCsms201
) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms, FUSE)) as box:
        await csms.wait_status(1, "Available")
        assert await csms.set_variable(
            {"name": "SmartChargingCtrlr"}, "LimitChangeSignificance", "20"
        ) == ("Accepted")
        await box.post("/api/bench/site", {"house_a": [10, 4, 4]})
        await box.wait_for(lambda s: s["site"]["grid_current_a"] is not None, timeout=15)
        await start_charging(box)
        mark = len(csms.received)
        await box.post("/api/bench/site", {"house_a": [18, 4, 4]})
        limit = await csms.wait_for(
            "NotifyChargingLimit",
            lambda p: p["charging_schedule"][0]["charging_schedule_period"][0]["limit"] < 8,
            since=mark,
        )
        assert limit["charging_limit"] == {"charging_limit_source": "EMS"}
        assert limit["evse_id"] == 1
        assert limit["charging_schedule"][0]["charging_rate_unit"] == "A"
        mark = len(csms.received)
        await box.post("/api/bench/site", {"house_a": [0, 0, 0]})
        # The house estimate is lowered once the box's own meter has read 2 s past the grid
        # reading that showed the fall (a fall is never taken from a skew).
        # Up to the fuse, less at most the raise hysteresis (0.5 A) an earlier cut left.
        status = await box.wait_for(lambda s: s["limit"]["current_a"] >= 24.5, timeout=10)
        # The status shows the core's step; the notification follows on the outside's turn,
        # judged against the limit in force (the fuse less a hysteresis an earlier cut left).
        for _ in range(100):
            in_force, last = status["limit"]["current_a"], told(csms, mark)[-1]
            if abs(in_force - last) <= 0.2 * last:
                break
            await asyncio.sleep(0.05)
            status = await box.status()
        assert abs(in_force - last) <= 0.2 * last, "told again only once it moved over 20 %"
        steps = told(csms, mark)
        assert all(abs(b - a) > 0.2 * a + 1e-9 for a, b in itertools.pairwise(steps)), steps
        station_max = charging_profile(2, "ChargingStationMaxProfile", 10.0)
        assert await csms.set_charging_profile(0, station_max) == "Accepted"
        cleared = await csms.wait_for("ClearedChargingLimit", since=mark)
        assert cleared == {"charging_limit_source": "EMS", "evse_id": 1}, "the CSMS's binds now"
        assert csms.protocol_errors == []


TENTHS = st.integers(0, 800).map(lambda n: n / 10)  # limits are judged as told: 0.1 A


@given(
    told_a=st.one_of(st.none(), TENTHS),
    binding_a=st.one_of(st.none(), TENTHS),
    significance=st.integers(0, 100),
)
def test_a_limit_is_told_when_it_starts_moves_far_enough_or_ends(
    told_a: float | None, binding_a: float | None, significance: int
) -> None:
    what = notice(told_a, binding_a, significance)
    if binding_a is None:
        assert what == (None if told_a is None else "clear")
    elif told_a is None:
        assert what == "notify"
    elif what == "notify":
        assert binding_a != told_a
        assert told_a == 0 or abs(binding_a - told_a) > told_a * significance / 100 - 1e-9
    else:
        assert what is None
        assert abs(binding_a - told_a) <= told_a * significance / 100 + 1e-9
