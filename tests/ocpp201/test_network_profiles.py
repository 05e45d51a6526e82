"""B09, B10: network connection profiles on the wire. SetNetworkProfile fills a slot or says
why not, NetworkConfigurationPriority orders the slots from the next start, a Reset then
moves the box to another CSMS, and a slot that cannot be reached falls back to the next
after NetworkProfileConnectionAttempts."""

from __future__ import annotations

from pathlib import Path

from ocpp.v201 import call

from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.csms201 import TestCsms201, network_profile
from tests.rigs.process import free_port

COMM = {"name": "OCPPCommCtrlr"}


async def test_a_profile_is_stored_only_when_the_box_can_use_it(
    tmp_path: Path, csms: TestCsms201
) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available")
        other = "ws://127.0.0.1:9/ocpp"
        refused = {
            "no slot 999": (999, network_profile(other)),
            "the slot in use": (1, network_profile(other)),
            "1.6": (2, network_profile(other, ocppVersion="OCPP16")),
            "SOAP": (2, network_profile(other, ocppTransport="SOAP")),
            "a modem": (2, network_profile(other, apn={"apn": "web", "apnAuthentication": "AUTO"})),
            "TLS without a root": (2, network_profile("wss://127.0.0.1:9/ocpp", 2)),
            "profile 1 without a key": (2, network_profile(other, 1)),
            "TLS on profile 0": (3, network_profile(other.replace("ws", "wss"), 0)),
            "no host": (2, network_profile("ws:///ocpp")),
        }
        for why, (slot, data) in refused.items():
            assert await csms.set_network_profile(slot, data) == "Rejected", why
        assert await csms.get_variable(COMM, "NetworkConfigurationPriority") == "1"
        assert await csms.set_variable(COMM, "NetworkConfigurationPriority", "2,1") == (
            "Rejected"
        ), "slot 2 is empty"
        assert await csms.set_network_profile(2, network_profile(other)) == "Accepted"
        event = await csms.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "ReconfigurationOfSecurityParameters",
        )
        assert "slot 2" in event["tech_info"]
        for bad in ("1,1", "4,1", "two", ""):
            status = await csms.set_variable(COMM, "NetworkConfigurationPriority", bad)
            assert status == "Rejected", bad
        assert await csms.set_variable(COMM, "NetworkConfigurationPriority", "2,1") == (
            "RebootRequired"
        )
        assert await csms.get_variable(COMM, "NetworkConfigurationPriority") == "2,1"
        security = {"name": "SecurityCtrlr"}
        assert await csms.set_variable(security, "SecurityProfile", "1") == "Rejected"
        assert await csms.get_variable(security, "SecurityProfile") == "0"
        assert await csms.set_variable(COMM, "NetworkProfileConnectionAttempts", "0") == (
            "Rejected"
        )
        assert csms.protocol_errors == []


async def test_a_reset_moves_the_box_to_the_new_csms(tmp_path: Path, csms: TestCsms201) -> None:
    new = TestCsms201()
    await new.start()
    try:
        async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
            await csms.wait_status(1, "Available")
            assert await csms.set_network_profile(2, network_profile(new.url)) == "Accepted"
            assert await csms.set_variable(COMM, "NetworkConfigurationPriority", "2,1") == (
                "RebootRequired"
            )
            assert (await csms.call(call.Reset(type="OnIdle"))).status == "Accepted"
            await box.wait_for(lambda _s: box.resets == ["Soft"])
            assert (await box.status())["ocpp"]["network_slot"] == 1, "until the restart"
        boots = len(csms.of("BootNotification"))
        async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
            booted = await new.wait_for("BootNotification", timeout=8)
            assert booted["reason"] == "RemoteReset"
            await new.wait_status(1, "Available")
            assert (await box.status())["ocpp"]["network_slot"] == 2
            assert await new.get_variable(COMM, "MessageTimeout", instance="Default") == "5"
            assert len(csms.of("BootNotification")) == boots, "the old CSMS hears nothing"
        assert new.protocol_errors == []
    finally:
        await new.stop()


async def test_an_unreachable_slot_falls_back_after_its_attempts(
    tmp_path: Path, csms: TestCsms201
) -> None:
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available")
        unreachable = network_profile(f"ws://127.0.0.1:{free_port()}/ocpp")
        assert await csms.set_network_profile(3, unreachable) == "Accepted"
        assert await csms.set_variable(COMM, "NetworkProfileConnectionAttempts", "2") == (
            "Accepted"
        )
        assert await csms.set_variable(COMM, "NetworkConfigurationPriority", "3,1") == (
            "RebootRequired"
        )
    mark = len(csms.received)
    async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_for("BootNotification", since=mark, timeout=10)
        status = await box.status()
        assert status["ocpp"]["network_slot"] == 1, "slot 3 tried twice, then slot 1"
        assert await csms.get_variable(COMM, "NetworkConfigurationPriority") == "3,1"
