"""What only the 2.0.1 front refuses: more entries than ItemsPerMessage, an unlock during a
transaction. The malformed frames of either version, each with its version's CALLERROR,
are tests/csms/test_malformed_frames.py."""

from __future__ import annotations

import json

from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.rigs.csms import call_error_code
from tests.rigs.csms201 import TestCsms201


async def test_more_entries_than_items_per_message_are_refused(
    box: BenchClient, csms: TestCsms201
) -> None:
    entry = {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
    frame = json.dumps([2, "big", "GetVariables", {"getVariableData": [entry] * 33}])
    assert call_error_code(await csms.send_raw(frame)) == "OccurrenceConstraintViolation"
    fits = await csms.call(call.GetVariables(get_variable_data=[entry] * 32))
    assert len(fits.get_variable_result) == 32


async def test_unlock_is_refused_during_a_transaction_and_works_after(
    box: BenchClient, csms: TestCsms201
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Started")
    busy = await csms.call(call.UnlockConnector(evse_id=1, connector_id=1))
    assert busy.status == "OngoingAuthorizedTransaction"
    assert box.wallbox.controller.session is not None, "the transaction goes on"
    await box.bench("ev", state="A")
    await csms.wait_event("Ended")
    assert (await csms.call(call.UnlockConnector(evse_id=1, connector_id=1))).status == "Unlocked"
    unknown = await csms.call(call.UnlockConnector(evse_id=2, connector_id=1))
    assert unknown.status == "UnknownConnector"
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    assert csms.protocol_errors == []
