"""Smart charging against the CSMS on loopback: every answer, and the pilot following it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from pievse.firmware.config import Config
from pievse.firmware.csms.key_table import core_key_specs
from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.charging_profiles import profile
from tests.rigs.csms import TestCsms


async def _set(csms: TestCsms, connector_id: int, body: dict[str, Any]) -> str:
    answer = await csms.call(call.SetChargingProfile(connector_id, body))
    return answer.status


def _offered(status: dict[str, Any]) -> float | None:
    """What the pilot offers now (its duty cycle, held to one change per duty_hold_s)."""
    duty = status["pilot"]["duty_percent"]
    return None if duty is None else round(duty * 0.6, 1)


@pytest.mark.parametrize(
    ("connector", "body", "expected"),
    [
        (0, profile(purpose="ChargePointMaxProfile", kind="Absolute"), "Accepted"),
        (1, profile(), "Accepted"),
        (0, profile(), "Accepted"),
        (2, profile(), "Rejected"),  # no such connector
        (1, profile(purpose="ChargePointMaxProfile", kind="Absolute"), "Rejected"),
        (1, profile(purpose="TxProfile"), "Rejected"),  # no transaction runs
        (1, profile(stack_level=11), "Rejected"),  # above ChargeProfileMaxStackLevel
        (1, profile(periods=[(60, 10.0)]), "Rejected"),  # does not start at 0
        (1, profile(periods=[(0, 10.0), (600, 8.0), (300, 6.0)]), "Rejected"),  # not ascending
        (1, profile(periods=[(i * 60, 10.0) for i in range(49)]), "Rejected"),  # > 48 periods
        (1, profile(kind="Recurring"), "Rejected"),  # no recurrencyKind / startSchedule
        (
            1,
            profile(kind="Relative", schedule={"startSchedule": "2026-01-01T00:00:00Z"}),
            "Rejected",
        ),
        (1, profile(validFrom="2026-05-01T00:00:00Z", validTo="2026-04-01T00:00:00Z"), "Rejected"),
        (1, profile(schedule={"duration": 10**12}), "Rejected"),  # dates would overflow
        (1, profile(periods=[(0, 10.0), (10**12, 6.0)]), "Rejected"),
        (1, profile(validFrom="yesterday"), "Rejected"),
    ],
)
async def test_set_charging_profile_answers(
    box: BenchClient, csms: TestCsms, connector: int, body: dict[str, Any], expected: str
) -> None:
    assert await _set(csms, connector, body) == expected


async def test_tx_profile_with_a_wrong_transaction_id_is_rejected(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    assert await _set(csms, 1, profile(purpose="TxProfile", transactionId=999)) == "Rejected"
    assert await _set(csms, 1, profile(purpose="TxProfile", transactionId=1001)) == "Accepted"


async def test_more_than_max_charging_profiles_installed_is_rejected(
    box: BenchClient, csms: TestCsms
) -> None:
    for level in range(11):
        assert await _set(csms, 1, profile(100 + level, stack_level=level)) == "Accepted"
    for level in range(9):
        assert await _set(csms, 0, profile(200 + level, stack_level=level)) == "Accepted"
    assert await _set(csms, 0, profile(300, stack_level=9)) == "Rejected", "the 21st"
    assert await _set(csms, 1, profile(400, stack_level=3)) == "Accepted", "replaces the 3rd"


async def test_a_unit_not_allowed_by_the_board_config_is_rejected(
    tmp_path: Path, csms: TestCsms
) -> None:
    config = ocpp_config(csms, '[smart_charging]\nrate_units = "Current"\n')
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        assert await _set(csms, 1, profile(unit="W", periods=[(0, 7000.0)])) == "Rejected"
        assert await _set(csms, 1, profile(unit="A")) == "Accepted"
        keys = await csms.call(
            call.GetConfiguration(key=["ChargingScheduleAllowedChargingRateUnit"])
        )
        assert keys.configuration_key[0]["value"] == "Current"


async def test_highest_stack_level_wins_and_the_pilot_follows_at_once(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    assert await _set(csms, 0, profile(1, stack_level=0, periods=[(0, 16.0)])) == "Accepted"
    status = await box.wait_for(lambda s: _offered(s) == 16.0)
    assert status["pilot"]["duty_percent"] == pytest.approx(16 / 0.6, abs=0.01)
    assert status["limit"]["current_a"] == 16.0
    assert await _set(csms, 1, profile(2, stack_level=1, periods=[(0, 12.0)])) == "Accepted"
    status = await box.wait_for(lambda s: _offered(s) == 12.0)
    assert status["limit"]["source"] == "charging_profile"
    assert status["limit"]["charging_profile"]["profile_id"] == 2
    # A ChargePointMaxProfile below it caps everything.
    cap = profile(3, "ChargePointMaxProfile", kind="Absolute", periods=[(0, 8.0)])
    assert await _set(csms, 0, cap) == "Accepted"
    status = await box.wait_for(lambda s: _offered(s) == 8.0)
    assert status["limit"]["charging_profile"]["purpose"] == "ChargePointMaxProfile"


async def test_a_multi_period_tx_profile_is_followed_on_the_pilot(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    periods = [(0, 20.0), (2, 10.0), (4, 4.0), (6, 14.0)]
    body = profile(5, "TxProfile", periods=periods, kind="Relative")
    started = await box.status()
    assert await _set(csms, 1, body) == "Accepted"
    assert started["session"] is not None
    seen = await box.wait_for(lambda s: _offered(s) == 10.0, timeout=8)
    assert seen["connectors"]["1"]["status"] == "Charging"
    suspended = await box.wait_for(
        lambda s: s["connectors"]["1"]["status"] == "SuspendedEVSE", timeout=8
    )
    assert suspended["pilot"]["duty_percent"] is None, "4 A is below 6 A: the EV is paused"
    await box.wait_for(lambda s: _offered(s) == 14.0, timeout=8)
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging", timeout=5)


async def test_a_tx_profile_replaced_mid_session_takes_effect_and_ends_with_it(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    assert await _set(csms, 1, profile(7, "TxProfile", periods=[(0, 16.0)])) == "Accepted"
    await box.wait_for(lambda s: _offered(s) == 16.0)
    assert await _set(csms, 1, profile(8, "TxProfile", periods=[(0, 11.0)])) == "Accepted"
    await box.wait_for(lambda s: _offered(s) == 11.0)
    await box.bench("ev", state="A")
    await csms.wait_for("StopTransaction")
    answer = await csms.call(call.ClearChargingProfile(id=8))
    assert answer.status == "Unknown", "the transaction's TxProfile ended with it"


async def test_remote_start_with_a_tx_profile_applies_it_to_the_new_transaction(
    box: BenchClient, csms: TestCsms
) -> None:
    await box.bench("ev", state="C")
    body = profile(9, "TxProfile", periods=[(0, 9.0)])
    answer = await csms.call(call.RemoteStartTransaction(id_tag="REMOTE", charging_profile=body))
    assert answer.status == "Accepted"
    await csms.wait_for("StartTransaction")
    status = await box.wait_for(lambda s: _offered(s) == 9.0)
    assert status["limit"]["charging_profile"]["profile_id"] == 9
    assert status["connectors"]["1"]["status"] == "Charging"


async def test_clear_charging_profile_filters(box: BenchClient, csms: TestCsms) -> None:
    for body, connector in [
        (profile(1, stack_level=0), 1),
        (profile(2, stack_level=1), 1),
        (profile(3, stack_level=1), 0),
        (profile(4, "ChargePointMaxProfile", kind="Absolute", periods=[(0, 30.0)]), 0),
    ]:
        assert await _set(csms, connector, body) == "Accepted"
    clear = call.ClearChargingProfile
    assert (await csms.call(clear(id=99))).status == "Unknown"
    assert (await csms.call(clear(id=1))).status == "Accepted"
    assert (await csms.call(clear(id=1))).status == "Unknown"
    assert (await csms.call(clear(connector_id=1, stack_level=1))).status == "Accepted"  # 2
    purpose = "ChargePointMaxProfile"
    assert (await csms.call(clear(charging_profile_purpose=purpose))).status == "Accepted"  # 4
    assert (await csms.call(clear(charging_profile_purpose=purpose))).status == "Unknown"
    assert (await csms.call(clear(connector_id=0, stack_level=0))).status == "Unknown"
    assert (await csms.call(clear())).status == "Accepted"  # 3, the last one
    assert (await csms.call(clear())).status == "Unknown"


async def test_get_composite_schedule_in_amps_and_watts(box: BenchClient, csms: TestCsms) -> None:
    answer = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=3600))
    assert answer.status == "Accepted"
    assert answer.charging_schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 32.0, "number_phases": 3}
    ], "no profile: the board rating"
    cap = profile(
        1,
        "ChargePointMaxProfile",
        kind="Absolute",
        periods=[(0, 16.0), (1800, 10.0)],
        schedule={"startSchedule": "2020-01-01T00:00:00Z", "duration": 3 * 3600},
    )
    assert await _set(csms, 0, cap) == "Accepted"
    # Long over: a 3-hour schedule that started in 2020 no longer limits anything.
    answer = await csms.call(call.GetCompositeSchedule(connector_id=0, duration=600))
    assert answer.charging_schedule["charging_schedule_period"][0]["limit"] == 32.0
    daily = profile(
        2,
        "TxDefaultProfile",
        kind="Relative",
        periods=[(0, 20.0), (600, 6.0)],
        schedule={"duration": 1200},
    )
    assert await _set(csms, 1, daily) == "Accepted"
    await charge_under_csms(box, csms)
    for connector in (0, 1):
        answer = await csms.call(call.GetCompositeSchedule(connector_id=connector, duration=3600))
        periods = answer.charging_schedule["charging_schedule_period"]
        assert [p["limit"] for p in periods] == [20.0, 6.0, 32.0]
        assert periods[0]["start_period"] == 0
        assert 590 <= periods[1]["start_period"] <= 600
    watts = await csms.call(
        call.GetCompositeSchedule(connector_id=1, duration=300, charging_rate_unit="W")
    )
    assert watts.charging_schedule["charging_rate_unit"] == "W"
    assert watts.charging_schedule["charging_schedule_period"][0]["limit"] == 20 * 230 * 3
    year = await csms.call(call.GetCompositeSchedule(connector_id=1, duration=10**9))
    assert year.charging_schedule["duration"] == 366 * 86_400, "answered for at most a year"
    rejected = await csms.call(call.GetCompositeSchedule(connector_id=2, duration=60))
    assert rejected.status == "Rejected"


async def test_watt_profiles_convert_with_voltage_and_phases(
    tmp_path: Path, csms: TestCsms
) -> None:
    config = ocpp_config(csms, extra="\n[site]\nphase_switch_pause_s = 5.0\n")
    async with running_wallbox(tmp_path, config) as box:
        await charge_under_csms(box, csms)
        one_phase = profile(
            1, periods=[(0, 2300.0)], unit="W", schedule={"chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 2300.0, "numberPhases": 1}
            ]},
        )  # fmt: skip
        assert await _set(csms, 1, one_phase) == "Accepted"
        # numberPhases 1: the box switches to one phase (a pause), then 2300 W is 10 A on it.
        status = await box.wait_for(lambda s: _offered(s) == pytest.approx(10.0), timeout=20)
        assert status["site"]["phases"]["in_use"] == 1
        status = await box.wait_for(lambda s: s["meter"]["current_a"][0] > 9.0)
        assert status["meter"]["current_a"][1:] == [0.0, 0.0]
        three_phase = profile(2, stack_level=1, periods=[(0, 11040.0)], unit="W")
        assert await _set(csms, 1, three_phase) == "Accepted"
        # No period asks for one phase: back to three, 11040 W is 16 A on each.
        status = await box.wait_for(lambda s: _offered(s) == pytest.approx(16.0), timeout=20)
        assert status["site"]["phases"]["in_use"] == 3


async def test_the_phase_contactor_is_announced_read_only(box: BenchClient, csms: TestCsms) -> None:
    await csms.wait_status(1, "Available")
    name = "ConnectorSwitch3to1PhaseSupported"
    keys = await csms.call(call.GetConfiguration(key=[name]))
    assert keys.configuration_key == [{"key": name, "readonly": True, "value": "true"}]
    changed = await csms.call(call.ChangeConfiguration(key=name, value="false"))
    assert changed.status == "Rejected"
    without = {k.name: k.default for k in core_key_specs(Config(), frozenset())}
    assert without[name] == "false", "a board without a phase contactor says so"


async def test_profiles_survive_a_restart(tmp_path: Path, csms: TestCsms) -> None:
    config = ocpp_config(csms)
    cap = profile(4, "ChargePointMaxProfile", kind="Absolute", periods=[(0, 12.0)])
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        assert await _set(csms, 0, cap) == "Accepted"
    async with running_wallbox(tmp_path, config) as box:
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="CARD-1")
        status = await box.wait_for(lambda s: _offered(s) == 12.0)
        assert status["limit"]["charging_profile"]["profile_id"] == 4
