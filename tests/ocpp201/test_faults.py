"""Faults on 2.0.1: the connector reports Faulted, and what is wrong travels as a NotifyEvent
of the component's Problem variable, set with the fault table's code and cleared after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BenchClient
from tests.rigs.csms201 import TestCsms201


def problem(payload: dict[str, Any]) -> dict[str, Any]:
    (data,) = payload["event_data"]
    assert data["variable"] == {"name": "Problem"}
    assert data["event_notification_type"] == "HardWiredNotification"
    return data


@pytest.mark.parametrize(
    ("fault", "component", "tech_code", "stopped"),
    [
        ("rcd", "Connector", "GroundFailure", "GroundFault"),
        ("overtemperature", "ChargingStation", "HighTemperature", None),
        ("tamper", "ChargingStation", "OtherError", "Other"),
    ],
)
async def test_a_fault_is_a_problem_event_and_faulted_until_it_clears(
    box: BenchClient,
    csms: TestCsms201,
    fault: str,
    component: str,
    tech_code: str,
    stopped: str | None,
) -> None:
    """A fault that ends the transaction ends it for its reason in the fault table, with
    triggerReason AbnormalCondition; over-temperature only pauses it."""
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_event("Started")
    mark = len(csms.received)
    await box.bench("fault", fault=fault, active=True)
    await csms.wait_status(1, "Faulted", since=mark, timeout=6)
    raised = problem(
        await csms.wait_for(
            "NotifyEvent", lambda p: problem(p)["actual_value"] == "true", since=mark
        )
    )
    assert raised["component"]["name"] == component
    assert raised["tech_code"] == tech_code
    if component == "Connector":
        assert raised["component"]["evse"] == {"id": 1, "connector_id": 1}
    if fault == "tamper":
        assert raised["tech_info"] == "Tamper"
    assert (await box.status())["contactor"] == "open"
    ended = [e for e in csms.events() if e["event_type"] == "Ended"]
    if stopped is None:
        assert ended == []
    else:
        (event,) = ended
        assert event["transaction_info"]["stopped_reason"] == stopped
        assert event["trigger_reason"] == "AbnormalCondition"
    mark = len(csms.received)
    await box.bench("fault", fault=fault, active=False)
    await box.bench("ev", state="A")
    cleared = problem(
        await csms.wait_for(
            "NotifyEvent", lambda p: problem(p)["actual_value"] == "false", since=mark, timeout=15
        )
    )
    assert cleared["cleared"] is True and cleared["event_id"] > raised["event_id"]
    await csms.wait_status(1, "Available", since=mark, timeout=15)
    assert csms.protocol_errors == []
