"""A token the CSMS refuses in its answer to a running transaction's TransactionEvent (E05):
the transaction ends (StopTxOnInvalidId), or its energy stops at once or after
MaxEnergyOnInvalidId Wh; also for a session the box began offline."""

from __future__ import annotations

import pytest

from tests.conftest import BenchClient
from tests.rigs.csms201 import TestCsms201

TX = {"name": "TxCtrlr"}


async def test_an_invalid_token_in_the_started_answer_ends_the_transaction(
    box: BenchClient, csms: TestCsms201
) -> None:
    csms.script.start_status = "Invalid"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    ended = await csms.wait_event("Ended")
    assert ended["trigger_reason"] == "Deauthorized"
    assert ended["transaction_info"]["stopped_reason"] == "DeAuthorized"
    status = await box.wait_for(lambda s: s["contactor"] == "open")
    assert status["session"] is None


@pytest.mark.parametrize("token_status", ["Blocked", "NoCredit"])
async def test_without_stop_tx_on_invalid_id_the_energy_stops_and_the_transaction_stays(
    box: BenchClient, csms: TestCsms201, token_status: str
) -> None:
    assert await csms.set_variable(TX, "StopTxOnInvalidId", "false") == "Accepted"
    csms.script.start_status = token_status
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Started")
    status = await box.wait_for(lambda s: s["contactor"] == "open", timeout=5)
    assert status["pilot"]["duty_percent"] is None
    assert status["session"] is not None
    assert all(e["event_type"] != "Ended" for e in csms.events())


async def test_max_energy_on_invalid_id_lets_that_much_through_first(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert await csms.set_variable(TX, "StopTxOnInvalidId", "false") == "Accepted"
    assert await csms.set_variable(TX, "MaxEnergyOnInvalidId", "15") == "Accepted"
    assert await csms.get_variable(TX, "MaxEnergyOnInvalidId") == "15"
    csms.script.start_status = "Invalid"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Started")
    charging = await box.wait_for(lambda s: s["contactor"] == "closed", timeout=5)
    assert charging["session"]["energy_wh"] < 15
    stopped = await box.wait_for(lambda s: s["pilot"]["duty_percent"] is None, timeout=15)
    assert stopped["session"]["energy_wh"] >= 15
    assert all(e["event_type"] != "Ended" for e in csms.events())


async def test_a_session_begun_offline_ends_when_the_csms_refuses_its_token_later(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert (
        await csms.set_variable({"name": "AuthCtrlr"}, "OfflineTxForUnknownIdEnabled", "true")
        == "Accepted"
    )
    await csms.stop()
    await box.wait_for(lambda s: not s["ocpp"]["connected"], timeout=10)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="STRANGER")
    await box.wait_for(lambda s: s["contactor"] == "closed", timeout=5)
    csms.script.tags["STRANGER"] = "Invalid"
    await csms.start_on(csms.port)
    ended = await csms.wait_event("Ended", timeout=30)
    assert ended["trigger_reason"] == "Deauthorized"
    started = csms.events()[0]
    assert started["event_type"] == "Started" and started["offline"] is True
    await box.wait_for(lambda s: s["contactor"] == "open")


async def test_a_session_begun_from_the_cache_ends_when_the_csms_now_refuses_its_token(
    box: BenchClient, csms: TestCsms201
) -> None:
    auth = {"name": "AuthCtrlr"}
    assert await csms.set_variable(auth, "LocalPreAuthorize", "true") == "Accepted"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")  # asked once: Accepted, and cached
    await csms.wait_event("Updated", "ChargingStateChanged")
    await box.bench("ev", state="A")
    await csms.wait_event("Ended")
    csms.script.tags["CARD-1"] = "Blocked"
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    ended = await csms.wait_event("Ended", "Deauthorized", since=mark)
    assert ended["transaction_info"]["stopped_reason"] == "DeAuthorized"
    assert "Authorize" not in csms.actions(mark), "the cache started it"
    await box.wait_for(lambda s: s["session"] is None and s["contactor"] == "open")
