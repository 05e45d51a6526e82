"""N02-N06 on the wire: monitors on what the box measures (the EVSE's power, availability),
their NotifyEvents while an EV charges, the level that silences them, reports by criteria
and component, clearing (never the hard-wired ones), the base, and monitors kept across a
restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ocpp.v201 import call

from tests.conftest import BenchClient, ocpp_config, running_wallbox, until
from tests.rigs.csms201 import TestCsms201

EVSE = {"name": "EVSE", "evse": {"id": 1}}
CONNECTOR = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
POWER = {"name": "Power"}
AVAILABILITY = {"name": "AvailabilityState"}


def monitor(
    component: dict[str, Any], variable: dict[str, Any], kind: str, value: float, **extra: Any
) -> dict[str, Any]:
    return {
        "component": component,
        "variable": variable,
        "type": kind,
        "value": value,
        "severity": extra.pop("severity", 5),
        **extra,
    }


async def set_monitors(csms: TestCsms201, *entries: dict[str, Any]) -> list[tuple[str, Any]]:
    answer = await csms.call(call.SetVariableMonitoring(set_monitoring_data=list(entries)))
    return [(r["status"], r.get("id")) for r in answer.set_monitoring_result]


async def report(csms: TestCsms201, request_id: int, **criteria: Any) -> dict[int, str] | str:
    """GetMonitoringReport: monitor id -> type, or the status when there is nothing."""
    mark = len(csms.received)
    answer = await csms.call(call.GetMonitoringReport(request_id=request_id, **criteria))
    if answer.status != "Accepted":
        return str(answer.status)
    await csms.wait_for(
        "NotifyMonitoringReport",
        lambda p: p["request_id"] == request_id and not p.get("tbc", False),
        since=mark,
    )
    found: dict[int, str] = {}
    for page in csms.of("NotifyMonitoringReport", mark):
        for entry in page["monitor"]:
            for watch in entry["variable_monitoring"]:
                found[watch["id"]] = watch["type"]
    return found


def custom_events(csms: TestCsms201, monitor_id: int, since: int = 0) -> list[dict[str, Any]]:
    return [
        data
        for page in csms.of("NotifyEvent", since)
        for data in page["event_data"]
        if data.get("variable_monitoring_id") == monitor_id
    ]


async def charge(box: BenchClient, csms: TestCsms201, tag: str) -> None:
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag=tag)
    await csms.wait_event("Started", since=mark)
    await box.wait_for(lambda s: (s["meter"].get("power_w") or 0) > 3000, timeout=8)


async def test_monitors_raise_events_within_the_level(box: BenchClient, csms: TestCsms201) -> None:
    results = await set_monitors(
        csms,
        monitor(EVSE, POWER, "UpperThreshold", 3000),
        monitor(CONNECTOR, AVAILABILITY, "Delta", 0, severity=8),
        monitor({"name": "Lamp"}, POWER, "Delta", 1),
        monitor(EVSE, {"name": "Colour"}, "Delta", 1),
        monitor(EVSE, POWER, "PeriodicClockAligned", 60),
        monitor(CONNECTOR, AVAILABILITY, "UpperThreshold", 1),
        monitor({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}, "Delta", 1),
        monitor(EVSE, POWER, "UpperThreshold", 3000, severity=5),
        monitor(EVSE, POWER, "Delta", 100, id=77),
        monitor(EVSE, POWER, "Delta", -5),
    )
    assert [status for status, _ in results] == [
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "UnknownVariable",
        "UnsupportedMonitorType",
        "Rejected",
        "Rejected",
        "Duplicate",
        "Rejected",
        "Rejected",
    ]
    power_id, availability_id = results[0][1], results[1][1]
    assert power_id not in (1, 2) and availability_id not in (1, 2), "1, 2 are hard-wired"

    await charge(box, csms, "MONITORED")
    await until(lambda: bool(custom_events(csms, power_id)))
    alert = custom_events(csms, power_id)[0]
    assert alert["trigger"] == "Alerting" and float(alert["actual_value"]) > 3000
    assert alert["event_notification_type"] == "CustomMonitor"
    assert alert["component"]["name"] == "EVSE" and alert["variable"]["name"] == "Power"
    await until(lambda: bool(custom_events(csms, availability_id)))
    occupied = custom_events(csms, availability_id)
    assert occupied[0]["trigger"] == "Delta" and occupied[0]["actual_value"] == "Occupied"
    mark = len(csms.received)
    await box.bench("ev", state="A")
    await csms.wait_event("Ended", since=mark)
    await until(lambda: bool(custom_events(csms, power_id, mark)))
    cleared = custom_events(csms, power_id, mark)[0]
    assert cleared.get("cleared") is True and float(cleared["actual_value"]) <= 3000

    assert (await csms.call(call.SetMonitoringLevel(severity=4))).status == "Accepted"
    assert (await csms.call(call.SetMonitoringLevel(severity=10))).status == "Rejected"
    mark = len(csms.received)
    await charge(box, csms, "MONITORED")
    await box.bench("ev", state="A")
    await csms.wait_event("Ended", since=mark)
    assert custom_events(csms, power_id, mark) == [], "severity 5 is below level 4"
    assert custom_events(csms, availability_id, mark) == []
    assert csms.protocol_errors == []


async def test_reports_clearing_and_the_base(tmp_path: Path, csms: TestCsms201) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available")
        results = await set_monitors(
            csms,
            monitor(EVSE, POWER, "Periodic", 1),
            monitor(CONNECTOR, AVAILABILITY, "Delta", 0),
        )
        periodic_id, delta_id = (number for _, number in results)
        await until(lambda: len(custom_events(csms, periodic_id)) >= 2, 6)
        first, second = custom_events(csms, periodic_id)[:2]
        assert first["trigger"] == second["trigger"] == "Periodic"
        assert await report(csms, 1) == {
            1: "Delta",
            2: "Delta",
            periodic_id: "Periodic",
            delta_id: "Delta",
        }
        assert set(await report(csms, 2, monitoring_criteria=["PeriodicMonitoring"])) == {
            periodic_id
        }
        assert set(await report(csms, 3, component_variable=[{"component": CONNECTOR}])) == {
            2,
            delta_id,
        }
        assert await report(csms, 4, monitoring_criteria=["ThresholdMonitoring"]) == (
            "EmptyResultSet"
        )
    restarted = len(csms.received)
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available", since=restarted)
        assert set(await report(csms, 5)) == {1, 2, periodic_id, delta_id}, "kept"
        cleared = await csms.call(call.ClearVariableMonitoring(id=[1, periodic_id, 999]))
        assert [r["status"] for r in cleared.clear_monitoring_result] == [
            "Rejected",
            "Accepted",
            "NotFound",
        ]
        mark = len(csms.received)
        await asyncio.sleep(1.5)
        assert custom_events(csms, periodic_id, mark) == [], "a cleared monitor is quiet"
        based = await csms.call(call.SetMonitoringBase(monitoring_base="HardWiredOnly"))
        assert based.status == "Accepted"
        assert set(await report(csms, 6)) == {1, 2}
        assert csms.protocol_errors == []
