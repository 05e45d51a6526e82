"""E01-E07, E14, F01-F06, J01, J02: a 2.0.1 transaction on the wire, from the first event to the
last, with sequence numbers, triggers, meter values and the offline flag."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ocpp.v201 import call

from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms201 import TestCsms201


def transaction_of(events: list[dict[str, Any]]) -> str:
    ids = {e["transaction_info"]["transaction_id"] for e in events}
    assert len(ids) == 1, ids
    return ids.pop()


async def test_a_card_session_starts_updates_and_ends_in_sequence(
    box: BenchClient, csms: TestCsms201
) -> None:
    await csms.set_variable({"name": "SampledDataCtrlr"}, "TxUpdatedInterval", "1")
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    started = await csms.wait_event("Started")
    assert started["trigger_reason"] == "Authorized"
    assert started["seq_no"] == 0 and "offline" not in started
    assert started["id_token"] == {"id_token": "CARD-1", "type": "ISO14443"}
    assert started["evse"] == {"id": 1, "connector_id": 1}
    begin = started["meter_value"][0]["sampled_value"][0]
    assert begin["context"] == "Transaction.Begin"
    assert isinstance(begin["value"], (int, float))
    assert begin["unit_of_measure"]["unit"] == "Wh"
    await csms.wait_event("Updated", "ChargingStateChanged")
    await csms.wait_event("Updated", "MeterValuePeriodic", timeout=4)
    await csms.wait_status(1, "Occupied")
    await box.bench("ev", state="A")
    ended = await csms.wait_event("Ended")
    assert ended["trigger_reason"] == "EVCommunicationLost"
    assert ended["transaction_info"]["stopped_reason"] == "EVDisconnected"
    events = csms.events()
    assert [e["seq_no"] for e in events] == list(range(len(events)))
    assert events[0]["event_type"] == "Started" and events[-1]["event_type"] == "Ended"
    transaction_of(events)
    states = [
        e["transaction_info"]["charging_state"]
        for e in events
        if e["trigger_reason"] in ("Authorized", "ChargingStateChanged")
    ]
    assert states[0] == "EVConnected" and states[-1] == "Charging", states
    assert all(a != b for a, b in itertools.pairwise(states)), "only changes"
    assert csms.protocol_errors == []


async def test_a_remote_start_names_its_id_and_a_remote_stop_ends_it(
    box: BenchClient, csms: TestCsms201
) -> None:
    answer = await csms.call(
        call.RequestStartTransaction(
            id_token={"idToken": "APP-7", "type": "Central"}, remote_start_id=42
        )
    )
    assert answer.status == "Accepted"
    await box.bench("ev", state="C")
    started = await csms.wait_event("Started")
    assert started["trigger_reason"] == "RemoteStart"
    assert started["transaction_info"]["remote_start_id"] == 42
    assert started["id_token"] == {"id_token": "APP-7", "type": "Central"}
    transaction = started["transaction_info"]["transaction_id"]
    status = await csms.call(call.GetTransactionStatus(transaction_id=transaction))
    assert status.ongoing_indicator is True
    wrong = await csms.call(call.RequestStopTransaction(transaction_id="nope"))
    assert wrong.status == "Rejected"
    again = await csms.call(
        call.RequestStartTransaction(
            id_token={"idToken": "X", "type": "Central"}, remote_start_id=43
        )
    )
    assert (again.status, again.transaction_id) == ("Rejected", transaction)
    stop = await csms.call(call.RequestStopTransaction(transaction_id=transaction))
    assert stop.status == "Accepted"
    ended = await csms.wait_event("Ended")
    assert ended["trigger_reason"] == "RemoteStop"
    assert ended["transaction_info"]["stopped_reason"] == "Remote"
    await asyncio.sleep(0.3)
    after = await csms.call(call.GetTransactionStatus(transaction_id=transaction))
    assert (after.ongoing_indicator, after.messages_in_queue) == (False, False)
    assert csms.protocol_errors == []


async def test_events_made_offline_arrive_in_order_with_the_offline_flag(
    tmp_path: Path, csms: TestCsms201
) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_status(1, "Available")
        allowed = await csms.set_variable(
            {"name": "AuthCtrlr"}, "OfflineTxForUnknownIdEnabled", "true"
        )
        assert allowed == "Accepted"
        port = csms.port
        await csms.stop()
        await csms.drop_connection()
        await box.wait_for(lambda s: s["ocpp"]["connected"] is False)
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="CARD-2")
        await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging")
        await box.bench("ev", state="A")
        await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Available")
        await csms.start_on(port)
        await csms.wait_event("Ended", timeout=10)
        events = csms.events()
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        assert all(e.get("offline") is True for e in events)
        assert events[0]["event_type"] == "Started" and events[-1]["event_type"] == "Ended"
        transaction_of(events)
        assert csms.protocol_errors == []


async def test_reset_on_idle_waits_for_the_transaction_and_immediate_ends_it(
    box: BenchClient, csms: TestCsms201
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-3")
    await csms.wait_event("Started")
    scheduled = await csms.call(call.Reset(type="OnIdle"))
    assert scheduled.status == "Scheduled"
    await asyncio.sleep(0.5)
    assert box.resets == []
    immediate = await csms.call(call.Reset(type="Immediate"))
    assert immediate.status == "Accepted"
    ended = await csms.wait_event("Ended")
    assert ended["trigger_reason"] == "ResetCommand"
    assert ended["transaction_info"]["stopped_reason"] == "ImmediateReset"
    await box.wait_for(lambda _s: bool(box.resets), timeout=5)
    assert box.resets[0] == "Hard"


async def test_availability_triggers_and_vendor_data(box: BenchClient, csms: TestCsms201) -> None:
    start = len(csms.received)
    answer = await csms.call(call.ChangeAvailability(operational_status="Inoperative"))
    assert answer.status == "Accepted"
    await csms.wait_status(1, "Unavailable", since=start)
    await csms.call(call.ChangeAvailability(operational_status="Operative"))
    await csms.wait_status(1, "Available", since=start)
    assert (await csms.call(call.TriggerMessage(requested_message="BootNotification"))).status == (
        "Rejected"
    )
    assert (await csms.call(call.TriggerMessage(requested_message="TransactionEvent"))).status == (
        "Rejected"
    ), "no transaction to report"
    before = len(csms.of("StatusNotification"))
    triggered = await csms.call(
        call.TriggerMessage(
            requested_message="StatusNotification", evse={"id": 1, "connectorId": 1}
        )
    )
    assert triggered.status == "Accepted"
    await csms.wait_for("StatusNotification", since=len(csms.received) - 1, timeout=3)
    assert len(csms.of("StatusNotification")) == before + 1
    meter = await csms.call(call.TriggerMessage(requested_message="MeterValues"))
    assert meter.status == "Accepted"
    values = await csms.wait_for("MeterValues")
    assert values["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
    data = await csms.call(call.DataTransfer(vendor_id="pievse", message_id="Status"))
    assert data.status == "Accepted"
    assert json.loads(data.data)["ocpp"]["version"] == "2.0.1"
    unknown = await csms.call(call.DataTransfer(vendor_id="someone-else"))
    assert unknown.status == "UnknownVendorId"
    assert csms.protocol_errors == []


async def test_clock_aligned_values_outside_a_transaction(
    box: BenchClient, csms: TestCsms201
) -> None:
    """J01: with no transaction the aligned values go out as MeterValues for the EVSE, on
    the interval's boundaries; in one they are TransactionEvent Updated (MeterValueClock)."""
    aligned = {"name": "AlignedDataCtrlr"}
    assert await csms.set_variable(aligned, "Measurands", "Energy.Active.Import.Register") == (
        "Accepted"
    )
    assert await csms.set_variable(aligned, "Interval", "1") == "Accepted"
    await csms.wait_for("MeterValues", lambda p: len(csms.of("MeterValues")) >= 2)
    first, second = csms.of("MeterValues")[:2]
    assert first["evse_id"] == 1
    sampled = first["meter_value"][0]["sampled_value"][0]
    assert sampled["measurand"] == "Energy.Active.Import.Register"
    assert sampled["context"] == "Sample.Clock"
    assert sampled["unit_of_measure"] == {"unit": "Wh"}
    earlier, later = (
        datetime.fromisoformat(p["meter_value"][0]["timestamp"].replace("Z", "+00:00"))
        for p in (first, second)
    )
    gap = (later - earlier).total_seconds()
    assert earlier.microsecond == later.microsecond == 0, "on the interval's boundaries"
    assert gap >= 1 and gap.is_integer()
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="ALIGNED")
    await csms.wait_event("Updated", "MeterValueClock", since=mark)
    assert csms.protocol_errors == []
