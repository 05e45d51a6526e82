"""The device model as a certification lab reads it: every component the box reports has
every variable OCPP 2.0.1 Part 2 requires of it, with the characteristics asked for, read
from the box's real state; the closing energy by default; TxStartedMeasurands writable; and
docs/ocpp201.md's table of variables is the box's own report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.ocpp201.device_model_spec import (
    LIST_TYPES,
    MAX_LIMIT_REQUIRED,
    full_report,
    key,
    required_counts,
    variable_table,
)
from tests.rigs.csms201 import TestCsms201, charging_profile

DOCS = Path(__file__).parents[2] / "docs" / "ocpp201.md"
TABLE_START = "<!-- variables: python -m tests.ocpp201.device_model_spec -->"
TABLE_END = "<!-- end of variables -->"


def entry_of(entries: list[dict[str, Any]], component: str, name: str) -> dict[str, Any]:
    return next(e for e in entries if key(e)[:2] == (component, name))


async def test_every_required_variable_is_reported_with_its_characteristics(
    box: BenchClient, csms: TestCsms201
) -> None:
    entries = await full_report(csms)
    found, wanted, missing = required_counts(entries)
    print(f"required variables reported: {found} of {wanted}")
    assert missing == []
    for entry in entries:
        characteristics = entry["variable_characteristics"]
        if characteristics["data_type"] in LIST_TYPES:
            assert characteristics.get("values_list"), key(entry)
            value = entry["variable_attribute"][0].get("value", "")
            allowed = characteristics["values_list"].split(",")
            assert all(v in allowed for v in value.split(",") if v), key(entry)
    for component, name in MAX_LIMIT_REQUIRED:
        assert "max_limit" in entry_of(entries, component, name)["variable_characteristics"]
    power = entry_of(entries, "EVSE", "Power")["variable_characteristics"]
    assert power["max_limit"] == 32 * 3 * 230, "the bench board's 32 A on 3 phases at 230 V"
    assert csms.protocol_errors == []


async def test_capacities_count_what_is_stored(box: BenchClient, csms: TestCsms201) -> None:
    local = {"name": "LocalAuthListCtrlr"}
    assert await csms.get_variable(local, "Entries") == "0"
    listed = await csms.call(
        call.SendLocalList(
            version_number=1,
            update_type="Full",
            local_authorization_list=[
                {
                    "idToken": {"idToken": f"T{n}", "type": "ISO14443"},
                    "idTokenInfo": {"status": "Accepted"},
                }
                for n in range(3)
            ],
        )
    )
    assert listed.status == "Accepted"
    assert await csms.get_variable(local, "Entries") == "3"
    smart = {"name": "SmartChargingCtrlr"}
    assert await csms.get_variable(smart, "Entries", instance="ChargingProfiles") == "0"
    assert await csms.set_charging_profile(1, charging_profile(4)) == "Accepted"
    assert await csms.get_variable(smart, "Entries", instance="ChargingProfiles") == "1"
    assert await csms.get_variable(smart, "RateUnit") == "A,W"
    entries = await full_report(csms)
    capacity = entry_of(entries, "LocalAuthListCtrlr", "Entries")["variable_characteristics"]
    assert capacity["max_limit"] == 10_000
    assert entry_of(entries, "ChargingStation", "Available")["variable_attribute"][0] == {
        "type": "Actual",
        "value": "true",
        "mutability": "ReadOnly",
        "persistent": False,
        "constant": False,
    }
    assert await csms.get_variable({"name": "ClockCtrlr"}, "TimeSource") == "Heartbeat"
    organization = {"name": "SecurityCtrlr"}
    assert await csms.set_variable(organization, "OrganizationName", "Stadtwerke") == "Accepted"
    assert await csms.get_variable(organization, "OrganizationName") == "Stadtwerke"
    assert csms.protocol_errors == []


async def test_the_ended_event_carries_the_register_and_started_measurands_are_set(
    box: BenchClient, csms: TestCsms201
) -> None:
    sampled = {"name": "SampledDataCtrlr"}
    assert await csms.get_variable(sampled, "TxEndedMeasurands") == (
        "Energy.Active.Import.Register"
    )
    assert await csms.set_variable(sampled, "TxStartedMeasurands", "Power.Active.Import") == (
        "Accepted"
    )
    assert await csms.set_variable(sampled, "TxStartedMeasurands", "RPM") == "Rejected"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    started = await csms.wait_event("Started")
    begin = started["meter_value"][0]["sampled_value"]
    assert [v.get("measurand") for v in begin] == ["Power.Active.Import"]
    await box.bench("ev", state="A")
    ended = await csms.wait_event("Ended")
    values = [v for mv in ended["meter_value"] for v in mv["sampled_value"]]
    end = [v for v in values if v.get("context") == "Transaction.End"]
    assert end and end[0].get("measurand", "Energy.Active.Import.Register") == (
        "Energy.Active.Import.Register"
    )
    assert csms.protocol_errors == []


async def test_the_docs_list_every_variable_the_box_reports(
    box: BenchClient, csms: TestCsms201
) -> None:
    text = DOCS.read_text()
    documented = text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)]
    assert documented.strip() == variable_table(await full_report(csms)), (
        "regenerate with python -m tests.ocpp201.device_model_spec"
    )


async def report(csms: TestCsms201, request_id: int, **asked: Any) -> list[Any] | str:
    """GetReport: the reportData of every page, or the status when there is nothing."""
    mark = len(csms.received)
    answer = await csms.call(call.GetReport(request_id=request_id, **asked))
    if answer.status != "Accepted":
        return str(answer.status)
    await csms.wait_for(
        "NotifyReport", lambda p: p["request_id"] == request_id and not p.get("tbc"), since=mark
    )
    pages = [p for p in csms.of("NotifyReport", mark) if p["request_id"] == request_id]
    assert [p["seq_no"] for p in pages] == list(range(len(pages)))
    return [entry for page in pages for entry in page.get("report_data", [])]


async def test_get_report_by_component_variable_and_criteria(
    box: BenchClient, csms: TestCsms201
) -> None:
    evse = await report(csms, 1, component_variable=[{"component": {"name": "EVSE"}}])
    assert isinstance(evse, list)
    assert {e["variable"]["name"] for e in evse} == {
        "AvailabilityState",
        "Available",
        "Power",
        "SupplyPhases",
    }
    one = await report(
        csms,
        2,
        component_variable=[
            {
                "component": {"name": "SmartChargingCtrlr"},
                "variable": {"name": "Entries", "instance": "ChargingProfiles"},
            },
            {"component": {"name": "EVSE", "evse": {"id": 2}}},
        ],
    )
    assert isinstance(one, list) and [key(e) for e in one] == [
        ("SmartChargingCtrlr", "Entries", "ChargingProfiles")
    ]
    available = await report(csms, 3, component_criteria=["Available"])
    assert isinstance(available, list)
    assert {e["component"]["name"] for e in available} == {"ChargingStation", "EVSE", "Connector"}
    enabled = await report(
        csms,
        4,
        component_criteria=["Enabled"],
        component_variable=[{"component": {"name": "AuthCtrlr"}}],
    )
    assert isinstance(enabled, list) and {key(e)[0] for e in enabled} == {"AuthCtrlr"}
    assert len(enabled) > 1, "every variable of the component, not only the criterion"
    assert await report(csms, 5, component_criteria=["Problem"]) == "EmptyResultSet"
    assert (
        await report(csms, 6, component_variable=[{"component": {"name": "FluxCtrlr"}}])
        == "EmptyResultSet"
    )
    many = await report(csms, 7)
    assert isinstance(many, list) and len(many) == len(await full_report(csms))
    assert csms.protocol_errors == []


async def test_get_report_criteria_problem_finds_a_fault(
    box: BenchClient, csms: TestCsms201
) -> None:
    await box.bench("fault", fault="rcd", active=True)
    await csms.wait_for("NotifyEvent")
    problems = await report(csms, 8, component_criteria=["Problem"])
    assert isinstance(problems, list) and problems
    assert {e["component"]["name"] for e in problems} <= {"ChargingStation", "Connector"}
    assert csms.protocol_errors == []
