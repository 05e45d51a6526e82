"""What the CSMS may ask: configuration, remote control, availability, trigger, data."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from ocpp.v16 import call

from pievse.firmware.config import Config
from pievse.firmware.csms.key_table import core_key_specs
from pievse.firmware.csms.security_keys import security_key_specs
from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms

CORE_KEYS = {
    "AuthorizeRemoteTxRequests": False,
    "ClockAlignedDataInterval": False,
    "ConnectionTimeOut": False,
    "ConnectorPhaseRotation": False,
    "GetConfigurationMaxKeys": True,
    "HeartbeatInterval": False,
    "LocalAuthorizeOffline": False,
    "LocalPreAuthorize": False,
    "MeterValuesAlignedData": False,
    "MeterValuesSampledData": False,
    "MeterValueSampleInterval": False,
    "NumberOfConnectors": True,
    "ResetRetries": False,
    "StopTransactionOnEVSideDisconnect": False,
    "StopTransactionOnInvalidId": False,
    "StopTxnAlignedData": False,
    "StopTxnSampledData": False,
    "SupportedFeatureProfiles": True,
    "TransactionMessageAttempts": False,
    "TransactionMessageRetryInterval": False,
    "UnlockConnectorOnEVSideDisconnect": False,
    "WebSocketPingInterval": False,
    "MinimumStatusDuration": False,
    "AllowOfflineTxForUnknownId": False,
    "AuthorizationCacheEnabled": False,
    "LocalAuthListEnabled": False,
    "LocalAuthListMaxLength": True,
    "SendLocalListMaxLength": True,
    "ReserveConnectorZeroSupported": True,
}


async def test_get_configuration_lists_every_core_key_with_its_readonly_flag(
    box: BenchClient, csms: TestCsms
) -> None:
    answer = await csms.call(call.GetConfiguration())
    listed = {entry["key"]: entry for entry in answer.configuration_key}
    every = [*core_key_specs(Config(), frozenset()), *security_key_specs(Config(), bool)]
    assert len(listed) == len(every) - 1, "all but the write-only AuthorizationKey"
    assert "AuthorizationKey" not in listed
    assert listed["SecurityProfile"] == {"key": "SecurityProfile", "readonly": False, "value": "0"}
    for key, readonly in CORE_KEYS.items():
        assert listed[key]["readonly"] is readonly, key
    assert listed["NumberOfConnectors"]["value"] == "1"
    assert listed["SupportedFeatureProfiles"]["value"] == (
        "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger,Reservation,SmartCharging"
    )
    assert not answer.unknown_key


async def test_get_configuration_with_keys_names_the_unknown_ones(
    box: BenchClient, csms: TestCsms
) -> None:
    answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"]))
    assert [e["key"] for e in answer.configuration_key] == ["HeartbeatInterval"]
    assert answer.unknown_key == ["NoSuchKey"]


@pytest.mark.parametrize(
    ("key", "value", "expected", "stored"),
    [
        ("MeterValueSampleInterval", "15", "Accepted", "15"),
        ("StopTransactionOnInvalidId", "FALSE", "Accepted", "false"),
        (
            "MeterValuesSampledData",
            "Energy.Active.Import.Register, Frequency",
            "Accepted",
            "Energy.Active.Import.Register,Frequency",
        ),
        ("ConnectorPhaseRotation", "0.RST,1.TSR", "Accepted", "0.RST,1.TSR"),
        ("MeterPollInterval", "2", "RebootRequired", "2"),
        ("MeterValueSampleInterval", "-5", "Rejected", None),
        ("MeterValueSampleInterval", "ten", "Rejected", None),
        ("StopTransactionOnInvalidId", "yes", "Rejected", None),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,RPM", "Rejected", None),
        ("ConnectorPhaseRotation", "1.XYZ", "Rejected", None),
        ("NumberOfConnectors", "2", "Rejected", None),
        ("NoSuchKey", "1", "NotSupported", None),
    ],
)
async def test_change_configuration(
    box: BenchClient, csms: TestCsms, key: str, value: str, expected: str, stored: str | None
) -> None:
    before = await csms.call(call.GetConfiguration(key=[key]))
    answer = await csms.call(call.ChangeConfiguration(key=key, value=value))
    assert answer.status == expected
    after = await csms.call(call.GetConfiguration(key=[key]))
    if stored is None:
        assert after == before
    else:
        assert after.configuration_key[0]["value"] == stored


async def test_configuration_survives_a_restart(tmp_path: Path, csms: TestCsms) -> None:
    config = ocpp_config(csms)
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        answer = await csms.call(
            call.ChangeConfiguration(key="MeterValueSampleInterval", value="7")
        )
        assert answer.status == "Accepted"
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        answer = await csms.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
        assert answer.configuration_key[0]["value"] == "7"


async def test_remote_start_without_authorize(box: BenchClient, csms: TestCsms) -> None:
    mark = len(csms.received)
    answer = await csms.call(call.RemoteStartTransaction(id_tag="REMOTE-1", connector_id=1))
    assert answer.status == "Accepted"
    await csms.wait_status(1, "Preparing", since=mark)
    await box.bench("ev", state="C")
    start = await csms.wait_for("StartTransaction", since=mark)
    assert start["id_tag"] == "REMOTE-1"
    await csms.wait_status(1, "Charging", since=mark)
    assert "Authorize" not in csms.actions(mark)


async def test_remote_start_authorizes_first_when_so_configured(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.call(call.ChangeConfiguration(key="AuthorizeRemoteTxRequests", value="true"))
    csms.script.tags["BAD"] = "Invalid"
    mark = len(csms.received)
    await box.bench("ev", state="B")
    assert (await csms.call(call.RemoteStartTransaction(id_tag="BAD"))).status == "Accepted"
    await csms.wait_for("Authorize", lambda p: p["id_tag"] == "BAD", since=mark)
    await asyncio.sleep(0.3)
    assert "StartTransaction" not in csms.actions(mark)
    assert (await csms.call(call.RemoteStartTransaction(id_tag="GOOD"))).status == "Accepted"
    start = await csms.wait_for("StartTransaction", since=mark)
    actions = csms.actions(mark)
    assert actions.index("StartTransaction") > len(actions) - 1 - actions[::-1].index("Authorize")
    assert start["id_tag"] == "GOOD"


async def test_remote_start_accepts_an_empty_id_tag(box: BenchClient, csms: TestCsms) -> None:
    await box.bench("ev", state="B")
    assert (await csms.call(call.RemoteStartTransaction(id_tag=""))).status == "Accepted"
    start = await csms.wait_for("StartTransaction")
    assert start["id_tag"] == ""


async def test_remote_start_is_rejected_when_it_cannot_start(
    box: BenchClient, csms: TestCsms
) -> None:
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",  # a remote start carries a TxProfile
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
        },
    }
    with_profile = call.RemoteStartTransaction(id_tag="A", charging_profile=profile)
    assert (await csms.call(with_profile)).status == "Rejected"
    assert (await csms.call(call.RemoteStartTransaction(id_tag="A", connector_id=2))).status == (
        "Rejected"
    )
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_for("StartTransaction")
    assert (await csms.call(call.RemoteStartTransaction(id_tag="B"))).status == "Rejected"


async def test_remote_stop(box: BenchClient, csms: TestCsms) -> None:
    await charge_under_csms(box, csms)
    assert (await csms.call(call.RemoteStopTransaction(transaction_id=999))).status == "Rejected"
    mark = len(csms.received)
    answer = await csms.call(call.RemoteStopTransaction(transaction_id=1001))
    assert answer.status == "Accepted"
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "Remote"
    assert "id_tag" not in stop
    await csms.wait_status(1, "Finishing", since=mark)


async def test_unlock_connector_stops_the_transaction_first(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    assert (await csms.call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "UnlockCommand"
    assert (await csms.call(call.UnlockConnector(connector_id=2))).status == "NotSupported"


async def test_lock_failure_is_reported(box: BenchClient, csms: TestCsms) -> None:
    await box.bench("fault", fault="lock", active=True)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    faulted = await csms.wait_status(1, "Faulted", timeout=4)
    assert faulted["error_code"] == "ConnectorLockFailure"
    assert (await box.status())["contactor"] == "open"


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
async def test_reset_stops_the_transaction_with_its_reason_then_restarts(
    box: BenchClient, csms: TestCsms, kind: str
) -> None:
    await charge_under_csms(box, csms)
    assert (await csms.call(call.Reset(type=kind))).status == "Accepted"
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == f"{kind}Reset"
    deadline = asyncio.get_running_loop().time() + 3
    while not box.resets and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert box.resets == [kind]
    assert (await box.status())["contactor"] == "open"


async def test_change_availability_of_the_connector(box: BenchClient, csms: TestCsms) -> None:
    mark = len(csms.received)
    answer = await csms.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
    assert answer.status == "Accepted"
    await csms.wait_status(1, "Unavailable", since=mark)
    assert csms.statuses(0, mark) == []
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await asyncio.sleep(0.3)
    assert "StartTransaction" not in csms.actions(mark)
    answer = await csms.call(call.ChangeAvailability(connector_id=1, type="Operative"))
    assert answer.status == "Accepted"
    await csms.wait_status(1, "Preparing", since=mark)


async def test_change_availability_of_the_box_is_scheduled_during_a_transaction(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    answer = await csms.call(call.ChangeAvailability(connector_id=0, type="Inoperative"))
    assert answer.status == "Scheduled"
    await asyncio.sleep(0.3)
    assert "Unavailable" not in csms.statuses(1, mark)
    await box.bench("ev", state="A")
    await csms.wait_for("StopTransaction", since=mark)
    await csms.wait_status(0, "Unavailable", since=mark)
    await csms.wait_status(1, "Unavailable", since=mark)
    assert (await csms.call(call.ChangeAvailability(connector_id=3, type="Operative"))).status == (
        "Rejected"
    )


async def test_availability_survives_a_restart(tmp_path: Path, csms: TestCsms) -> None:
    config = ocpp_config(csms)
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        await csms.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
        await csms.wait_status(1, "Unavailable")
    mark = len(csms.received)
    async with running_wallbox(tmp_path, config):
        first = await csms.wait_for(
            "StatusNotification", lambda p: p["connector_id"] == 1, since=mark
        )
        assert first["status"] == "Unavailable"


async def test_clear_cache_and_data_transfer(box: BenchClient, csms: TestCsms) -> None:
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    unknown = await csms.call(call.DataTransfer(vendor_id="acme", message_id="x"))
    assert unknown.status == "UnknownVendorId"
    ours = await csms.call(call.DataTransfer(vendor_id="pievse", message_id="Status"))
    assert ours.status == "Accepted"
    assert json.loads(ours.data)["connectors"]["1"]["status"] == "Available"
    other = await csms.call(call.DataTransfer(vendor_id="pievse", message_id="Nope"))
    assert other.status == "UnknownMessageId"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("BootNotification", "BootNotification"),
        ("Heartbeat", "Heartbeat"),
        ("StatusNotification", "StatusNotification"),
        ("MeterValues", "MeterValues"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
    ],
)
async def test_trigger_message_answers_first_then_sends(
    box: BenchClient, csms: TestCsms, message: str, expected: str
) -> None:
    mark = len(csms.received)
    answer = await csms.call(call.TriggerMessage(requested_message=message))
    assert answer.status == "Accepted"
    payload = await csms.wait_for(expected, since=mark)
    if message == "MeterValues":
        sampled = payload["meter_value"][0]["sampled_value"]
        assert {v["context"] for v in sampled} == {"Trigger"}
    if message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
        assert payload["status"] == "Idle"


async def test_trigger_message_for_one_connector_or_a_missing_one(
    box: BenchClient, csms: TestCsms
) -> None:
    mark = len(csms.received)
    answer = await csms.call(
        call.TriggerMessage(requested_message="StatusNotification", connector_id=1)
    )
    assert answer.status == "Accepted"
    await csms.wait_for("StatusNotification", since=mark)
    await asyncio.sleep(0.2)
    assert [p["connector_id"] for p in csms.of("StatusNotification", mark)] == [1]
    missing = call.TriggerMessage(requested_message="StatusNotification", connector_id=2)
    assert (await csms.call(missing)).status == "Rejected"


async def test_minimum_status_duration_hides_short_blips(box: BenchClient, csms: TestCsms) -> None:
    await csms.call(call.ChangeConfiguration(key="MinimumStatusDuration", value="1"))
    mark = len(csms.received)
    await box.bench("ev", state="B")
    await asyncio.sleep(0.2)
    await box.bench("ev", state="A")  # Preparing for 0.2 s: not reported
    await asyncio.sleep(1.5)
    assert csms.statuses(1, mark) == []
    await box.bench("ev", state="B")
    await csms.wait_status(1, "Preparing", since=mark, timeout=3)


async def test_key_names_are_case_insensitive_and_answered_in_the_standard_spelling(
    box: BenchClient, csms: TestCsms
) -> None:
    """OCPP 1.6 7.17: configuration keys are CiString."""
    changed = await csms.call(call.ChangeConfiguration(key="ConnectionTimeout", value="45"))
    assert changed.status == "Accepted"
    shouted = await csms.call(call.ChangeConfiguration(key="HEARTBEATINTERVAL", value="120"))
    assert shouted.status == "Accepted"
    answer = await csms.call(
        call.GetConfiguration(key=["connectiontimeout", "heartbeatInterval", "noSuchKey"])
    )
    assert answer.configuration_key == [
        {"key": "ConnectionTimeOut", "readonly": False, "value": "45"},
        {"key": "HeartbeatInterval", "readonly": False, "value": "120"},
    ]
    assert answer.unknown_key == ["noSuchKey"]
    assert box.wallbox.controller.policy.connection_timeout_s == 45.0, "applied, not just stored"
    hidden = await csms.call(call.GetConfiguration(key=["authorizationkey"]))
    assert hidden.unknown_key == ["authorizationkey"] and not hidden.configuration_key
