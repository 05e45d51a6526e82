"""Offline operation against the CSMS on loopback: transactions while the CSMS is away,
what is sent when it comes back and in which order."""

from __future__ import annotations

from tests.conftest import BenchClient
from tests.rigs.csms import TestCsms


async def _offline_session(box: BenchClient, csms: TestCsms, tag: str = "OFFLINE") -> None:
    """The CSMS goes away, then a session starts (an unknown tag is allowed offline)."""
    await csms.configure(AllowOfflineTxForUnknownId="true", MeterValueSampleInterval="1")
    await csms.stop()
    await box.wait_for(lambda s: not s["ocpp"]["connected"])
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag=tag)
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging")


async def test_after_a_reconnect_status_first_then_the_queue_in_order(
    box: BenchClient, csms: TestCsms
) -> None:
    await _offline_session(box, csms)
    await box.wait_for(lambda s: s["session"]["energy_wh"] > 1, timeout=5)
    await box.wait_for(lambda s: s["ocpp"]["queued"] >= 3, timeout=5)  # Start + values
    await box.bench("ev", state="A")
    await box.wait_for(lambda s: s["session"] is None)
    queued = (await box.status())["ocpp"]["queued"]
    mark = len(csms.received)
    await csms.start_on(csms.port)
    stop = await csms.wait_for("StopTransaction", since=mark)
    actions = csms.actions(mark)
    assert "BootNotification" not in actions, "registered once per process start"
    assert actions[:2] == ["StatusNotification", "StatusNotification"]
    assert [s["status"] for s in csms.of("StatusNotification", mark)[:2]] == [
        "Available",
        "Available",
    ], "the status now, not the history of the outage"
    transaction = [a for a in actions[2:] if a != "StatusNotification"]
    assert transaction[0] == "StartTransaction" and transaction[-1] == "StopTransaction"
    assert set(transaction[1:-1]) == {"MeterValues"}
    assert len(transaction) == queued
    start = csms.of("StartTransaction", mark)[0]
    assert start["id_tag"] == "OFFLINE"
    transaction_id = csms.started[
        tuple(start[k] for k in ("connector_id", "id_tag", "meter_start", "timestamp"))
    ]
    assert {v["transaction_id"] for v in csms.of("MeterValues", mark)} == {transaction_id}
    assert stop["transaction_id"] == transaction_id
    assert stop["reason"] == "EVDisconnected"
    assert stop["meter_stop"] > start["meter_start"]
    assert "Preparing" not in csms.statuses(1, mark) and "Charging" not in csms.statuses(1, mark)


async def test_an_offline_start_refused_later_stops_the_running_transaction(
    box: BenchClient, csms: TestCsms
) -> None:
    await _offline_session(box, csms, tag="UNKNOWN")
    csms.script.tags["UNKNOWN"] = "Invalid"
    mark = len(csms.received)
    await csms.start_on(csms.port)
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert (stop["reason"], stop["id_tag"]) == ("DeAuthorized", "UNKNOWN")
    status = await box.wait_for(lambda s: s["contactor"] == "open")
    assert status["session"] is None


async def test_an_offline_start_refused_later_is_suspended_when_so_configured(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.configure(StopTransactionOnInvalidId="false")
    await _offline_session(box, csms, tag="UNKNOWN")
    csms.script.tags["UNKNOWN"] = "Invalid"
    mark = len(csms.received)
    await csms.start_on(csms.port)
    await csms.wait_for("StartTransaction", since=mark)
    await csms.wait_status(1, "SuspendedEVSE", since=mark)
    status = await box.wait_for(lambda s: s["contactor"] == "open", timeout=4)
    assert status["session"] is not None
    assert "StopTransaction" not in csms.actions(mark)


async def test_heartbeats_resume_after_a_reconnect(box: BenchClient, csms: TestCsms) -> None:
    await csms.configure(HeartbeatInterval="1")
    await csms.stop()
    await box.wait_for(lambda s: not s["ocpp"]["connected"])
    mark = len(csms.received)
    await csms.start_on(csms.port)
    await csms.wait_for("Heartbeat", since=mark, timeout=4)
