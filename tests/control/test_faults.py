"""Every bench fault opens the contactor and shows in /api/status as the fault table says."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.conftest import FAST_CONFIG, BenchClient, start_charging


def _stop_reasons(bench: BenchClient) -> list[str]:
    db = sqlite3.connect(bench.wallbox.store.path)
    return [row[0] for row in db.execute("SELECT stop_reason FROM sessions ORDER BY id")]


async def test_rcd_trip_stops_the_session_and_latches_until_unplug_and_self_test(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault="rcd", active=True)
    status = await bench.status()  # the trip opened the contactor before the API answered
    assert status["contactor"] == "open"
    assert status["connectors"]["1"]["status"] == "Faulted"
    assert status["connectors"]["1"]["error_code"] == "GroundFailure"
    await bench.wait_for(lambda s: s["session"] is None)
    assert _stop_reasons(bench) == ["Other"]

    await bench.bench("fault", fault="rcd", active=False)
    still = await bench.status()
    assert still["connectors"]["1"]["status"] == "Faulted", "latched while the EV is plugged in"
    await bench.bench("ev", state="A")
    await bench.wait_status("1", "Available")


async def test_overtemperature_faults_connector_zero_and_resumes_below_hysteresis(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault="overtemperature", active=True)
    status = await bench.status()
    assert status["contactor"] == "open"
    assert status["connectors"]["0"] == {
        "status": "Faulted",
        "error_code": "HighTemperature",
        "transaction_id": None,
    }
    suspended = await bench.wait_status("1", "SuspendedEVSE")
    assert suspended["session"] is not None, "over-temperature suspends, it does not stop"
    assert suspended["pilot"]["duty_percent"] is None

    await bench.bench("fault", fault="overtemperature", active=False)
    resumed = await bench.wait_status("1", "Charging")
    assert resumed["connectors"]["0"]["status"] == "Available"
    assert resumed["contactor"] == "closed"


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("meter_offline", "timeout"),
        ("meter_exception", "exception"),
        ("meter_implausible", "implausible"),
    ],
)
async def test_meter_failures_with_stop_policy_fault_count_and_recover(
    bench: BenchClient, fault: str, kind: str
) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault=fault, active=True)
    status = await bench.wait_status("1", "Faulted")
    assert status["connectors"]["1"]["error_code"] == "PowerMeterFailure"
    assert status["contactor"] == "open"
    assert status["meter"]["online"] is False
    errors = status["meter"]["errors"]
    assert errors[kind] >= 3, "offline_after_failures = 3 consecutive failures of this kind"
    assert sum(errors.values()) == errors[kind]

    await bench.bench("fault", fault=fault, active=False)
    recovered = await bench.wait_for(lambda s: s["meter"]["online"])
    assert recovered["connectors"]["1"]["error_code"] == "NoError"
    assert recovered["connectors"]["1"]["status"] == "Finishing"


@pytest.mark.parametrize("config_text", [FAST_CONFIG + 'on_loss = "continue"\n'])
async def test_meter_offline_with_continue_policy_keeps_charging_flagged(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault="meter_offline", active=True)
    status = await bench.wait_for(
        lambda s: s["connectors"]["1"]["error_code"] == "PowerMeterFailure"
    )
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["contactor"] == "closed"
    await bench.bench("fault", fault="meter_offline", active=False)
    await bench.wait_for(lambda s: s["connectors"]["1"]["error_code"] == "NoError")


async def test_weld_while_idle_holds_state_f_and_reports_the_measured_contactor(
    bench: BenchClient,
) -> None:
    await bench.bench("ev", state="B")
    await bench.bench("fault", fault="contactor_weld", active=True)
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Faulted"
    assert status["connectors"]["1"]["error_code"] == "PowerSwitchFailure"
    assert status["contactor"] == "closed", "the measured state, not the command"
    assert status["pilot"]["state"] == "F"
    assert status["pilot"]["high_v"] == -12.0

    await bench.bench("tag", id_tag="CARD-W")  # no new session while welded
    await bench.bench("ev", state="C")
    again = await bench.wait_for(lambda s: s["pilot"]["state"] == "F")
    assert again["session"] is None

    await bench.bench("fault", fault="contactor_weld", active=False)
    # Once the contacts read open again, the tag presented meanwhile starts the session.
    cleared = await bench.wait_status("1", "Charging")
    assert cleared["connectors"]["1"]["error_code"] == "NoError"
    assert cleared["pilot"]["state"] == "C"


async def test_weld_found_by_the_check_after_opening(bench: BenchClient) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault="contactor_weld", active=True)
    assert (await bench.status())["connectors"]["1"]["status"] == "Charging"
    await bench.bench("ev", state="B")  # C -> B: the box opens, the contacts stay closed
    status = await bench.wait_for(lambda s: s["connectors"]["1"]["status"] == "Faulted")
    assert status["connectors"]["1"]["error_code"] == "PowerSwitchFailure"
    # the trip comes from the weld check's timer; the pilot is sampled at the next step
    await bench.wait_for(lambda s: s["pilot"]["state"] == "F", timeout=0.2)


async def test_missing_diode_opens_and_sets_state_f_then_retries(bench: BenchClient) -> None:
    await start_charging(bench)
    await bench.bench("fault", fault="diode", active=True)
    status = await bench.wait_status("1", "Faulted")
    assert status["connectors"]["1"]["error_code"] == "EVCommunicationError"
    assert status["contactor"] == "open"
    # The generator is held at -12 V; without the diode the EV's resistors pull it to -5.6 V.
    assert status["pilot"]["high_v"] == status["pilot"]["low_v"] == pytest.approx(-5.6, abs=0.1)

    await bench.bench("fault", fault="diode", active=False)
    await bench.bench("ev", state="A")
    await bench.wait_status("1", "Available", timeout=3)  # after fault_retry_s (1 s)


async def test_pilot_short_state_e_opens_the_contactor(bench: BenchClient) -> None:
    await start_charging(bench)
    await bench.bench("ev", state="E")
    status = await bench.wait_status("1", "Faulted")
    assert status["connectors"]["1"]["error_code"] == "EVCommunicationError"
    assert status["contactor"] == "open"
    await bench.bench("ev", state="A")
    await bench.wait_status("1", "Available")


async def test_ev_drawing_more_than_offered_trips_overcurrent(bench: BenchClient) -> None:
    await start_charging(bench)
    bench.wallbox.board.bench.set_overdraw(5.0)  # an EV that ignores the pilot
    status = await bench.wait_status("1", "Faulted")
    assert status["connectors"]["1"]["error_code"] == "OverCurrentFailure"
    assert status["contactor"] == "open"
    bench.wallbox.board.bench.set_overdraw(0.0)
    await bench.bench("ev", state="A")
    await bench.wait_status("1", "Available")


@pytest.mark.parametrize("config_text", [FAST_CONFIG + "overcurrent_tolerance_a = 3.0\n"])
async def test_overdraw_within_the_configured_tolerance_keeps_charging(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    bench.wallbox.board.bench.set_overdraw(2.5)
    drawn = await bench.wait_for(lambda s: s["meter"]["current_a"][0] > 34.0)
    assert drawn["meter"]["current_a"][0] == pytest.approx(34.5), "read over Modbus"
    await asyncio.sleep(1.0)  # ten meter polls
    still = await bench.status()
    assert still["connectors"]["1"]["status"] == "Charging"
    bench.wallbox.board.bench.set_overdraw(3.5)
    tripped = await bench.wait_status("1", "Faulted")
    assert tripped["connectors"]["1"]["error_code"] == "OverCurrentFailure"
