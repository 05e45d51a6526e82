"""B01-B03, B05-B07, G01: a 2.0.1 box registers, reports its connector and answers the
device model, against the library's 2.0.1 CSMS with schema checks both ways."""

from __future__ import annotations

from pathlib import Path

from ocpp.v201 import call

from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms201 import TestCsms201


async def test_boot_names_the_station_and_the_connector_reports_available(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert csms.subprotocols == ["ocpp2.0.1"]
    boot = csms.of("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    station = boot["charging_station"]
    assert (station["vendor_name"], station["model"]) == ("pievse", "bench-sim")
    assert station["serial_number"] == "pievse-0001" and station["firmware_version"]
    assert csms.actions()[:2] == ["BootNotification", "StatusNotification"]
    first = csms.of("StatusNotification")[0]
    assert (first["evse_id"], first["connector_id"], first["connector_status"]) == (
        1,
        1,
        "Available",
    )
    status = await box.status()
    assert status["ocpp"]["registration"] == "accepted"
    assert status["ocpp"]["version"] == "2.0.1"
    assert csms.protocol_errors == []


async def test_pending_then_accepted_retries_after_the_interval(
    tmp_path: Path, csms: TestCsms201
) -> None:
    csms.script.boot = [("Pending", 1), ("Accepted", 300)]
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available", timeout=6)
        boots = [r for r in csms.received if r.action == "BootNotification"]
        assert len(boots) == 2
        assert boots[1].at - boots[0].at >= 0.9
        assert csms.actions().index("StatusNotification") > 1, "nothing before acceptance"


async def test_variables_share_the_1_6_keys_storage_and_answer_every_status(
    box: BenchClient, csms: TestCsms201
) -> None:
    answer = await csms.call(
        call.SetVariables(
            set_variable_data=[
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeValue": "120",
                },
                {
                    "component": {"name": "TxCtrlr"},
                    "variable": {"name": "TxStartPoint"},
                    "attributeValue": "EVConnected",
                },
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedInterval"},
                    "attributeValue": "many",
                },
                {
                    "component": {"name": "NoSuchCtrlr"},
                    "variable": {"name": "Enabled"},
                    "attributeValue": "true",
                },
                {
                    "component": {"name": "AuthCtrlr"},
                    "variable": {"name": "NoSuchVariable"},
                    "attributeValue": "true",
                },
                {
                    "component": {"name": "AuthCtrlr"},
                    "variable": {"name": "LocalPreAuthorize"},
                    "attributeType": "MaxSet",
                    "attributeValue": "true",
                },
            ]
        )
    )
    assert [r["attribute_status"] for r in answer.set_variable_result] == [
        "Accepted",
        "Rejected",
        "Rejected",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
    ]
    assert box.wallbox.keys.value("HeartbeatInterval") == "120", "the 1.6 key itself"
    got = await csms.call(
        call.GetVariables(
            get_variable_data=[
                {"component": {"name": "ocppcommctrlr"}, "variable": {"name": "heartbeatinterval"}},
                {
                    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                    "variable": {"name": "AvailabilityState"},
                },
                {
                    "component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
                    "variable": {"name": "AvailabilityState"},
                },
            ]
        )
    )
    results = got.get_variable_result
    assert [(r["attribute_status"], r.get("attribute_value")) for r in results] == [
        ("Accepted", "120"),
        ("Accepted", "Available"),
        ("UnknownComponent", None),
    ]
    assert csms.protocol_errors == []


async def test_a_base_report_comes_in_pages_of_the_whole_model(
    box: BenchClient, csms: TestCsms201
) -> None:
    answer = await csms.call(call.GetBaseReport(request_id=7, report_base="FullInventory"))
    assert answer.status == "Accepted"
    await csms.wait_for("NotifyReport", lambda p: p["request_id"] == 7 and not p.get("tbc"))
    pages = [p for p in csms.of("NotifyReport") if p["request_id"] == 7]
    assert [p["seq_no"] for p in pages] == list(range(len(pages))) and len(pages) >= 2
    entries = [e for p in pages for e in p["report_data"]]
    named = {(e["component"]["name"], e["variable"]["name"]): e for e in entries}
    heartbeat = named[("OCPPCommCtrlr", "HeartbeatInterval")]
    assert heartbeat["variable_attribute"][0]["mutability"] == "ReadWrite"
    assert heartbeat["variable_characteristics"]["data_type"] == "integer"
    assert heartbeat["variable_characteristics"]["unit"] == "s"
    assert named[("TxCtrlr", "TxStartPoint")]["variable_attribute"][0]["value"] == (
        "PowerPathClosed"
    )
    config = await csms.call(call.GetBaseReport(request_id=8, report_base="ConfigurationInventory"))
    assert config.status == "Accepted"
    await csms.wait_for("NotifyReport", lambda p: p["request_id"] == 8 and not p.get("tbc"))
    configured = [
        e for p in csms.of("NotifyReport") if p["request_id"] == 8 for e in p["report_data"]
    ]
    assert all(e["variable_attribute"][0]["mutability"] != "ReadOnly" for e in configured)
    assert csms.protocol_errors == []
