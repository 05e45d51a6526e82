"""K01-K10, K15: 2.0.1 charging profiles drive the same composite and pilot as 1.6's, and
the CSMS can read them back."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.rigs.csms201 import TestCsms201, charging_profile


def _offered(status: dict[str, Any]) -> float:
    return status["pilot"]["offered_a"]


async def _charging(box: BenchClient, csms: TestCsms201, tag: str = "CARD-1") -> str:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag=tag)
    started = await csms.wait_event("Started")
    await box.wait_for(lambda s: s["contactor"] == "closed")
    return started["transaction_info"]["transaction_id"]


async def test_station_max_and_tx_profiles_drive_the_pilot(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert await csms.set_charging_profile(1, charging_profile(1, "TxProfile")) == "Rejected", (
        "no transaction"
    )
    transaction = await _charging(box, csms)
    assert (
        await csms.set_charging_profile(0, charging_profile(2, "ChargingStationMaxProfile", 10.0))
        == "Accepted"
    )
    status = await box.wait_for(
        lambda s: s["pilot"]["duty_percent"] == pytest.approx(10 / 0.6, abs=0.01)
    )
    assert _offered(status) == 10.0
    assert status["limit"]["charging_profile"]["purpose"] == "ChargePointMaxProfile"
    assert (
        await csms.set_charging_profile(0, charging_profile(2, "ChargingStationMaxProfile", 32.0))
        == "Accepted"
    )
    wrong = charging_profile(3, "TxProfile", 8.0, transactionId="someone-else")
    assert await csms.set_charging_profile(1, wrong) == "Rejected"
    own = charging_profile(3, "TxProfile", 8.0, transactionId=transaction)
    assert await csms.set_charging_profile(1, own) == "Accepted"
    await box.wait_for(lambda s: _offered(s) == 8.0)
    composite = await csms.call(call.GetCompositeSchedule(duration=600, evse_id=1))
    assert composite.status == "Accepted"
    periods = composite.schedule["charging_schedule_period"]
    assert periods[0]["limit"] == 8.0 and composite.schedule["evse_id"] == 1
    await box.bench("ev", state="A")
    await csms.wait_event("Ended")
    listed = await csms.call(
        call.GetChargingProfiles(
            request_id=1, charging_profile={"chargingProfilePurpose": "TxProfile"}
        )
    )
    assert listed.status == "NoProfiles", "a TxProfile ends with its transaction"
    assert csms.protocol_errors == []


async def test_profiles_are_reported_back_and_cleared(box: BenchClient, csms: TestCsms201) -> None:
    assert (
        await csms.set_charging_profile(1, charging_profile(4, limit=20.0, stack_level=1))
        == "Accepted"
    )
    assert (
        await csms.set_charging_profile(0, charging_profile(5, "ChargingStationMaxProfile", 25.0))
        == "Accepted"
    )
    answer = await csms.call(call.GetChargingProfiles(request_id=7, charging_profile={}))
    assert answer.status == "Accepted"
    await csms.wait_for("ReportChargingProfiles", lambda p: not p.get("tbc"))
    reports = [p for p in csms.of("ReportChargingProfiles") if p["request_id"] == 7]
    by_evse = {r["evse_id"]: r["charging_profile"] for r in reports}
    assert by_evse[1][0]["id"] == 4 and by_evse[1][0]["stack_level"] == 1
    assert by_evse[1][0]["charging_schedule"][0]["id"] == 40, "the schedule as it was set"
    assert by_evse[0][0]["charging_profile_purpose"] == "ChargingStationMaxProfile"
    assert all(r["charging_limit_source"] == "CSO" for r in reports)
    clear = await csms.call(call.ClearChargingProfile(charging_profile_id=4))
    assert clear.status == "Accepted"
    again = await csms.call(call.ClearChargingProfile(charging_profile_id=4))
    assert again.status == "Unknown"
    by_purpose = await csms.call(
        call.ClearChargingProfile(
            charging_profile_criteria={"chargingProfilePurpose": "ChargingStationMaxProfile"}
        )
    )
    assert by_purpose.status == "Accepted"
    assert csms.protocol_errors == []


async def test_what_the_box_cannot_run_is_rejected(box: BenchClient, csms: TestCsms201) -> None:
    assert (
        await csms.set_charging_profile(
            0, charging_profile(6, "ChargingStationExternalConstraints")
        )
        == "Rejected"
    )
    assert await csms.set_charging_profile(1, charging_profile(7, schedules=2)) == "Rejected"
    assert await csms.set_charging_profile(2, charging_profile(8)) == "Rejected"
    assert (
        await csms.set_charging_profile(1, charging_profile(9, "ChargingStationMaxProfile"))
        == "Rejected"
    )
    assert (
        await csms.call(call.GetChargingProfiles(request_id=2, charging_profile={}))
    ).status == "NoProfiles"


async def test_a_remote_start_brings_its_tx_profile(box: BenchClient, csms: TestCsms201) -> None:
    answer = await csms.call(
        call.RequestStartTransaction(
            id_token={"idToken": "APP-1", "type": "Central"},
            remote_start_id=3,
            charging_profile=charging_profile(11, "TxProfile", 9.0),
        )
    )
    assert answer.status == "Accepted"
    await box.bench("ev", state="C")
    await csms.wait_event("Started")
    status = await box.wait_for(lambda s: _offered(s) == 9.0)
    assert status["limit"]["charging_profile"]["profile_id"] == 11
    assert csms.protocol_errors == []
