"""Charging-profile dates a box cannot reach are refused at SetChargingProfile, on both
versions, and dropped at start where an older release stored one. A schema-valid
TxDefaultProfile starting 9999-12-31 with a duration used to overflow the composite at every
step: Faulted/InternalError, again after each restart, until ClearChargingProfile."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.charging_profiles import profile
from tests.rigs.csms import TestCsms
from tests.rigs.csms201 import TestCsms201
from tests.rigs.security_rig import serving

LAST_DAY = "9999-12-31T00:00:00Z"


def profile201(start: str, duration: int | None, valid_to: str | None = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "id": 1,
        "startSchedule": start,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
    }
    if duration is not None:
        schedule["duration"] = duration
    body: dict[str, Any] = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [schedule],
    }
    if valid_to is not None:
        body["validTo"] = valid_to
    return body


def profile16(start: str, duration: int | None, valid_to: str | None = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {"startSchedule": start}
    if duration is not None:
        schedule["duration"] = duration
    extra = {} if valid_to is None else {"validTo": valid_to}
    return profile(kind="Absolute", schedule=schedule, **extra)


async def set_profile(csms: TestCsms, start: str, duration: int | None, **extra: Any) -> str:
    if isinstance(csms, TestCsms201):
        request: Any = call201.SetChargingProfile(
            evse_id=1, charging_profile=profile201(start, duration, **extra)
        )
    else:
        request = call16.SetChargingProfile(1, profile16(start, duration, **extra))
    return (await csms.call(request)).status


CASES = [
    (LAST_DAY, 86_400, "Rejected"),  # its end overflows
    ("2099-12-31T23:00:00Z", 7_200, "Rejected"),  # ends in 2100
    ("2100-01-01T00:00:00Z", None, "Rejected"),
    ("2099-12-31T22:00:00Z", 3_600, "Accepted"),
    ("2026-12-01T00:00:00Z", None, "Accepted"),
]


@pytest.mark.parametrize("rig", [TestCsms, TestCsms201], ids=["1.6", "2.0.1"])
async def test_a_schedule_ending_after_2100_is_rejected_and_the_box_stays_available(
    tmp_path: Path, rig: type[TestCsms]
) -> None:
    csms = rig()
    async with serving(csms), running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_for("StatusNotification", timeout=8)
        answers = [await set_profile(csms, start, span) for start, span, _ in CASES]
        assert answers == [expected for *_, expected in CASES]
        assert await set_profile(csms, "2027-01-01T00:00:00Z", 60, valid_to=LAST_DAY) == (
            "Accepted"
        ), "a far validTo only says 'valid forever'"
        await asyncio.sleep(0.5)
        status = await box.status()
        assert status["faults"] == []
        assert status["connectors"]["1"]["status"] == "Available"


async def test_a_stored_profile_that_would_overflow_is_dropped_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    csms = TestCsms()
    async with serving(csms):
        async with running_wallbox(tmp_path, ocpp_config(csms)):
            await csms.wait_for("StatusNotification", timeout=8)
            assert await set_profile(csms, "2099-12-31T22:00:00Z", 3_600) == "Accepted"
        database = sqlite3.connect(tmp_path / "data" / "pievse.db")
        (payload,) = database.execute("SELECT payload FROM charging_profiles").fetchone()
        stored = json.loads(payload)
        stored["charging_schedule"]["start_schedule"] = LAST_DAY
        with database:
            database.execute("UPDATE charging_profiles SET payload=?", (json.dumps(stored),))
        database.close()
        with caplog.at_level(logging.ERROR, logger="pievse.firmware.csms.profile_store"):
            async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
                await asyncio.sleep(0.5)
                status = await box.status()
        assert status["faults"] == []
        assert status["connectors"]["1"]["status"] == "Available"
        assert status["limit"]["charging_profile"] is None
        dropped = [r.getMessage() for r in caplog.records]
        assert any("dropping stored charging profile 1" in m and "2100" in m for m in dropped)
