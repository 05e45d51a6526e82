"""What OCPP 2.0.1 Part 2 (appendices, the standardized components) requires of the
components a station reports: each component's required variables (name, instance), and the
characteristics it asks for. Facts of the specification, kept apart from the box's own
declarations so that a test can hold one against the other.

`python -m tests.ocpp201.device_model_spec` starts a 2.0.1 box against the test CSMS and
prints how many of the required variables of the components it reports it reports, and
the Markdown table of every component and variable (docs/ocpp201.md carries it).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from ocpp.v201 import call

Required = tuple[str, str | None]

REQUIRED: dict[str, tuple[Required, ...]] = {
    "AlignedDataCtrlr": (
        ("Interval", None),
        ("Measurands", None),
        ("TxEndedInterval", None),
        ("TxEndedMeasurands", None),
    ),
    "AuthCacheCtrlr": (),
    "AuthCtrlr": (
        ("AuthorizeRemoteStart", None),
        ("LocalAuthorizeOffline", None),
        ("LocalPreAuthorize", None),
    ),
    "ChargingStation": (("AvailabilityState", None), ("Available", None), ("SupplyPhases", None)),
    "ClockCtrlr": (("DateTime", None), ("TimeSource", None)),
    "Connector": (
        ("AvailabilityState", None),
        ("Available", None),
        ("ConnectorType", None),
        ("SupplyPhases", None),
    ),
    "DeviceDataCtrlr": tuple(
        (name, request)
        for name in ("BytesPerMessage", "ItemsPerMessage")
        for request in ("GetReport", "GetVariables", "SetVariables")
    ),
    "EVSE": (
        ("AvailabilityState", None),
        ("Available", None),
        ("Power", None),
        ("SupplyPhases", None),
    ),
    "LocalAuthListCtrlr": (("BytesPerMessage", None), ("Entries", None), ("ItemsPerMessage", None)),
    "MonitoringCtrlr": (
        ("BytesPerMessage", "SetVariableMonitoring"),
        ("ItemsPerMessage", "SetVariableMonitoring"),
    ),
    "OCPPCommCtrlr": (
        ("FileTransferProtocols", None),
        ("MessageAttemptInterval", "TransactionEvent"),
        ("MessageAttempts", "TransactionEvent"),
        ("MessageTimeout", "Default"),
        ("NetworkConfigurationPriority", None),
        ("NetworkProfileConnectionAttempts", None),
        ("OfflineThreshold", None),
        ("ResetRetries", None),
        ("RetryBackOffRandomRange", None),
        ("RetryBackOffRepeatTimes", None),
        ("RetryBackOffWaitMinimum", None),
        ("UnlockOnEVSideDisconnect", None),
        ("WebSocketPingInterval", None),
    ),
    "ReservationCtrlr": (),
    "SampledDataCtrlr": (
        ("TxEndedInterval", None),
        ("TxEndedMeasurands", None),
        ("TxStartedMeasurands", None),
        ("TxUpdatedInterval", None),
        ("TxUpdatedMeasurands", None),
    ),
    "SecurityCtrlr": (
        ("CertificateEntries", None),
        ("Identity", None),
        ("OrganizationName", None),
        ("SecurityProfile", None),
    ),
    "SmartChargingCtrlr": (
        ("Entries", "ChargingProfiles"),
        ("LimitChangeSignificance", None),
        ("PeriodsPerSchedule", None),
        ("ProfileStackLevel", None),
        ("RateUnit", None),
    ),
    "TxCtrlr": (
        ("EVConnectionTimeOut", None),
        ("StopTxOnEVSideDisconnect", None),
        ("StopTxOnInvalidId", None),
        ("TxStartPoint", None),
        ("TxStopPoint", None),
    ),
}
LIST_TYPES = frozenset({"OptionList", "MemberList", "SequenceList"})
"""Data types whose characteristics must carry a valuesList."""
MAX_LIMIT_REQUIRED = {("EVSE", "Power"), ("LocalAuthListCtrlr", "Entries")}
"""Where the maximum is part of the variable's meaning (the rated power, the capacity)."""


def key(entry: dict[str, Any]) -> tuple[str, str, str | None]:
    """(component, variable, instance) of a NotifyReport reportData entry (snake_case)."""
    return entry["component"]["name"], entry["variable"]["name"], entry["variable"].get("instance")


def required_counts(entries: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(required variables reported, required variables of the reported components, the
    missing ones) over one full report."""
    reported = {key(e) for e in entries}
    components = {c for c, _, _ in reported}
    wanted = [(c, name, inst) for c in sorted(components) for name, inst in REQUIRED.get(c, ())]
    missing = [
        f"{c}.{n}" + (f"[{i}]" if i else "") for c, n, i in wanted if (c, n, i) not in reported
    ]
    return len(wanted) - len(missing), len(wanted), missing


def variable_table(entries: list[dict[str, Any]]) -> str:
    """The Markdown table of every reported component and variable, one row each, sorted."""

    def where(component: dict[str, Any]) -> str:
        evse = component.get("evse")
        if evse is None:
            return ""
        connector = evse.get("connector_id")
        return f"EVSE {evse['id']}" + ("" if connector is None else f", connector {connector}")

    rows = sorted(
        (
            e["component"]["name"],
            where(e["component"]),
            e["variable"]["name"],
            e["variable"].get("instance") or "",
            e["variable_attribute"][0]["mutability"],
            e["variable_characteristics"]["data_type"],
        )
        for e in entries
    )
    lines = [
        "| component | evse | variable | instance | mutability | dataType |",
        "| --- | --- | --- | --- | --- | --- |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines)


async def full_report(csms: Any, request_id: int = 900) -> list[dict[str, Any]]:
    """GetBaseReport FullInventory: every reportData entry, pages joined."""
    mark = len(csms.received)
    answer = await csms.call(call.GetBaseReport(request_id=request_id, report_base="FullInventory"))
    assert answer.status == "Accepted"
    await csms.wait_for(
        "NotifyReport", lambda p: p["request_id"] == request_id and not p.get("tbc"), since=mark
    )
    pages = [p for p in csms.of("NotifyReport", mark) if p["request_id"] == request_id]
    return [entry for page in pages for entry in page["report_data"]]


async def _main() -> None:
    from tests.conftest import ocpp_config, running_wallbox
    from tests.rigs.csms201 import TestCsms201

    csms = TestCsms201()
    await csms.start()
    try:
        with tempfile.TemporaryDirectory() as data:
            async with running_wallbox(Path(data), ocpp_config(csms)):
                await csms.wait_status(1, "Available")
                entries = await full_report(csms)
    finally:
        await csms.stop()
    found, wanted, missing = required_counts(entries)
    print(f"required variables reported: {found} of {wanted}")
    print("missing:", ", ".join(missing) or "none")
    print()
    print(variable_table(entries))


if __name__ == "__main__":
    asyncio.run(_main())
