"""Transactions and the standard status transitions, as message sequences on the wire."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ocpp.v16 import call

from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms


def _collapse(statuses: list[str]) -> list[str]:
    return [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]


async def test_plug_in_then_tag(box: BenchClient, csms: TestCsms) -> None:
    mark = len(csms.received)
    await box.bench("ev", state="B")
    await csms.wait_status(1, "Preparing", since=mark)
    await box.bench("tag", id_tag="CARD-1")
    start = await csms.wait_for("StartTransaction", since=mark)
    assert start["id_tag"] == "CARD-1"
    assert start["connector_id"] == 1
    assert start["meter_start"] == 0
    await box.bench("ev", state="C")
    await csms.wait_status(1, "Charging", since=mark)
    await asyncio.sleep(0.5)  # some energy
    await box.bench("ev", state="A")
    stop = await csms.wait_for("StopTransaction", since=mark)
    await csms.wait_status(1, "Available", since=mark + 1)
    assert stop["reason"] == "EVDisconnected"
    assert stop["transaction_id"] == 1001
    assert stop["meter_stop"] >= start["meter_start"]
    actions = csms.actions(mark)
    assert actions.index("Authorize") < actions.index("StartTransaction")
    assert _collapse(csms.statuses(1, mark)) == [
        "Preparing",
        "SuspendedEV",
        "Charging",
        "Available",
    ]
    status = await box.status()
    assert status["connectors"]["1"]["transaction_id"] is None


async def test_tag_then_plug_in(box: BenchClient, csms: TestCsms) -> None:
    mark = len(csms.received)
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "Preparing", since=mark)
    assert "StartTransaction" not in csms.actions(mark)
    await box.bench("ev", state="C")
    await csms.wait_status(1, "Charging", since=mark)
    assert _collapse(csms.statuses(1, mark))[0] == "Preparing"
    status = await box.status()
    assert status["connectors"]["1"]["transaction_id"] == 1001


async def test_tag_without_an_ev_times_out_per_connection_timeout(
    box: BenchClient, csms: TestCsms
) -> None:
    answer = await csms.call(call.ChangeConfiguration(key="ConnectionTimeOut", value="1"))
    assert answer.status == "Accepted"
    mark = len(csms.received)
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "Preparing", since=mark)
    await csms.wait_status(1, "Available", since=mark, timeout=3)
    await box.bench("ev", state="C")
    await asyncio.sleep(0.5)
    assert "StartTransaction" not in csms.actions(mark)


async def test_same_tag_stops_locally(box: BenchClient, csms: TestCsms) -> None:
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    await box.bench("tag", id_tag="CARD-1")
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "Local"
    assert stop["id_tag"] == "CARD-1"
    await csms.wait_status(1, "Finishing", since=mark)
    await box.bench("ev", state="A")
    await csms.wait_status(1, "Available", since=mark)


async def test_blocked_tag_starts_nothing(box: BenchClient, csms: TestCsms) -> None:
    csms.script.tags["STOLEN"] = "Blocked"
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="STOLEN")
    await csms.wait_for("Authorize", since=mark)
    await asyncio.sleep(0.5)
    assert "StartTransaction" not in csms.actions(mark)
    assert (await box.status())["contactor"] == "open"


async def test_invalid_id_in_start_answer_stops_with_deauthorized(
    box: BenchClient, csms: TestCsms
) -> None:
    csms.script.start_status = "Invalid"
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "DeAuthorized"
    await box.wait_for(lambda s: s["contactor"] == "open")


async def test_invalid_id_kept_when_stop_on_invalid_id_is_off(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.call(call.ChangeConfiguration(key="StopTransactionOnInvalidId", value="false"))
    csms.script.start_status = "ConcurrentTx"
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "SuspendedEVSE", since=mark)
    await asyncio.sleep(0.5)
    assert "StopTransaction" not in csms.actions(mark)
    # PWM off at once; the contactor opens when the EV answers or after suspend_timeout_s.
    status = await box.wait_for(lambda s: s["contactor"] == "open", timeout=3)
    assert status["pilot"]["duty_percent"] is None
    assert status["connectors"]["1"]["transaction_id"] == 1001


async def test_ev_side_disconnect_can_leave_the_transaction_running(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.call(
        call.ChangeConfiguration(key="StopTransactionOnEVSideDisconnect", value="false")
    )
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    await box.bench("ev", state="A")
    await csms.wait_status(1, "SuspendedEV", since=mark)
    assert "StopTransaction" not in csms.actions(mark)
    await box.bench("ev", state="C")
    await csms.wait_status(1, "Charging", since=mark)


async def test_fault_during_charging_stops_the_transaction_and_reports_the_error(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    await box.bench("fault", fault="rcd", active=True)
    faulted = await csms.wait_status(1, "Faulted", since=mark)
    assert faulted["error_code"] == "GroundFailure"
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "Other"
    await box.bench("fault", fault="rcd", active=False)
    await box.bench("ev", state="A")
    await csms.wait_status(1, "Available", since=mark, timeout=5)


async def test_box_fault_on_connector_zero_and_recovery(box: BenchClient, csms: TestCsms) -> None:
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    await box.bench("fault", fault="overtemperature", active=True)
    faulted = await csms.wait_status(0, "Faulted", since=mark)
    assert faulted["error_code"] == "HighTemperature"
    await csms.wait_status(1, "SuspendedEVSE", since=mark)
    await box.bench("fault", fault="overtemperature", active=False)
    await csms.wait_status(0, "Available", since=mark)
    await csms.wait_status(1, "Charging", since=mark)
    assert "StopTransaction" not in csms.actions(mark)


async def test_a_reconnect_mid_transaction_loses_nothing(box: BenchClient, csms: TestCsms) -> None:
    await charge_under_csms(box, csms)
    await csms.stop()  # the CSMS goes away mid-transaction
    await box.wait_for(lambda s: not s["ocpp"]["connected"])
    await box.bench("ev", state="A")  # the session ends while offline
    await box.wait_for(lambda s: s["session"] is None)
    assert "StopTransaction" not in csms.actions()
    mark = len(csms.received)
    await csms.start_on(csms.port)
    stop = await csms.wait_for("StopTransaction", since=mark, timeout=5)
    assert stop["transaction_id"] == 1001
    assert stop["reason"] == "EVDisconnected"
    await csms.wait_status(1, "Available", since=mark)
    assert "BootNotification" not in csms.actions(mark)


async def test_transaction_messages_survive_a_restart(tmp_path: Path, csms: TestCsms) -> None:
    config = ocpp_config(csms)
    async with running_wallbox(tmp_path, config) as box:
        await charge_under_csms(box, csms)
        await csms.stop()
        await box.wait_for(lambda s: not s["ocpp"]["connected"])
    # The box stopped (Other: a plain stop) while the CSMS was away: the StopTransaction
    # waits on disk.
    mark = len(csms.received)
    await csms.start_on(csms.port)
    async with running_wallbox(tmp_path, config):
        stop = await csms.wait_for("StopTransaction", since=mark)
        assert stop["reason"] == "Other"
        assert stop["transaction_id"] == 1001
        assert csms.actions(mark)[0] == "BootNotification"


async def test_a_refused_transaction_message_is_retried(box: BenchClient, csms: TestCsms) -> None:
    await csms.call(call.ChangeConfiguration(key="TransactionMessageRetryInterval", value="1"))
    csms.script.fail_actions["StartTransaction"] = 1
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_for("StartTransaction", since=mark)
    await asyncio.sleep(0.3)
    assert len(csms.of("StartTransaction", mark)) == 1
    await box.wait_for(lambda s: s["connectors"]["1"]["transaction_id"] == 1001, timeout=4)
    starts = [r for r in csms.received[mark:] if r.action == "StartTransaction"]
    assert len(starts) == 2
    assert starts[1].at - starts[0].at >= 0.9


async def test_a_transaction_message_is_dropped_after_its_attempts(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.call(call.ChangeConfiguration(key="TransactionMessageRetryInterval", value="0"))
    await csms.call(call.ChangeConfiguration(key="TransactionMessageAttempts", value="2"))
    await charge_under_csms(box, csms)
    csms.script.fail_actions["StopTransaction"] = 5
    mark = len(csms.received)
    await box.bench("ev", state="A")
    await csms.wait_status(1, "Available", since=mark)
    await asyncio.sleep(0.3)
    assert len(csms.of("StopTransaction", mark)) == 2
    assert box.wallbox.ocpp is not None
    assert box.wallbox.ocpp.outbox.pending_transaction_messages() == 0


async def test_max_energy_on_invalid_id_lets_that_much_through_before_the_energy_stops(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.call(call.ChangeConfiguration(key="StopTransactionOnInvalidId", value="false"))
    await csms.call(call.ChangeConfiguration(key="MaxEnergyOnInvalidId", value="15"))
    csms.script.start_status = "Invalid"
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_for("StartTransaction", since=mark)
    charging = await box.wait_for(lambda s: s["contactor"] == "closed", timeout=5)
    assert charging["session"]["energy_wh"] < 15
    stopped = await box.wait_for(lambda s: s["pilot"]["duty_percent"] is None, timeout=15)
    assert stopped["session"]["energy_wh"] >= 15
    assert "StopTransaction" not in csms.actions(mark)
