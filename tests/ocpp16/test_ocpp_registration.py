"""Connection and registration against a real CSMS on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ocpp.v16 import call

from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.tcp_proxy import TcpProxy


async def test_boot_notification_carries_the_identity_then_both_connectors_report(
    box: BenchClient, csms: TestCsms
) -> None:
    assert csms.paths == ["/ocpp/pievse-0001"]
    assert csms.subprotocols == ["ocpp1.6"]
    boot = csms.of("BootNotification")[0]
    assert boot["charge_point_vendor"] == "pievse"
    assert boot["charge_point_model"] == "bench-sim"
    assert boot["charge_point_serial_number"] == "pievse-0001"
    assert boot["meter_type"] == "SDM630"
    assert boot["firmware_version"]
    assert csms.actions()[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
    first = csms.of("StatusNotification")[:2]
    assert {(p["connector_id"], p["status"], p["error_code"]) for p in first} == {
        (0, "Available", "NoError"),
        (1, "Available", "NoError"),
    }
    status = await box.status()
    assert status["ocpp"]["connected"] is True
    assert status["ocpp"]["registration"] == "accepted"


async def test_accepted_interval_becomes_the_heartbeat_interval(
    tmp_path: Path, csms: TestCsms
) -> None:
    csms.script.boot = [("Accepted", 1)]
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_for("Heartbeat", timeout=4)
        answer = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        assert answer.configuration_key[0]["value"] == "1"


async def test_heartbeats_are_skipped_while_other_traffic_flows(
    tmp_path: Path, csms: TestCsms
) -> None:
    csms.script.boot = [("Accepted", 2)]
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.connected()
        await csms.wait_status(1, "Available")
        start = len(csms.received)
        for _ in range(12):  # 3 s of answers from the charge point, every 0.25 s
            await csms.call(call.GetConfiguration(key=["NumberOfConnectors"]))
            await asyncio.sleep(0.25)
        assert "Heartbeat" not in csms.actions(start)
        await csms.wait_for("Heartbeat", timeout=4, since=start)


async def test_pending_answers_requests_but_sends_nothing_until_accepted(
    tmp_path: Path, csms: TestCsms
) -> None:
    csms.script.boot = [("Pending", 1), ("Accepted", 300)]
    async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_for("BootNotification")
        status = await box.status()
        assert status["ocpp"]["registration"] == "pending"
        answer = await csms.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        assert answer.configuration_key[0]["value"] == "1"
        assert csms.actions() == ["BootNotification"]
        await csms.wait_status(1, "Available", timeout=4)
        boots = [r for r in csms.received if r.action == "BootNotification"]
        assert len(boots) == 2
        assert boots[1].at - boots[0].at >= 0.9
        assert csms.actions()[:2] == ["BootNotification", "BootNotification"]


async def test_pending_lets_a_triggered_message_through(tmp_path: Path, csms: TestCsms) -> None:
    csms.script.boot = [("Pending", 60)]
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_for("BootNotification")
        answer = await csms.call(call.TriggerMessage(requested_message="StatusNotification"))
        assert answer.status == "Accepted"
        await csms.wait_status(1, "Available")
        assert csms.actions() == ["BootNotification", "StatusNotification", "StatusNotification"]


async def test_rejected_sends_nothing_until_the_interval_passed(
    tmp_path: Path, csms: TestCsms
) -> None:
    csms.script.boot = [("Rejected", 2), ("Accepted", 300)]
    async with running_wallbox(tmp_path, ocpp_config(csms)) as box:
        await csms.wait_for("BootNotification")
        await box.bench("ev", state="B")  # a status change must not be sent while rejected
        await asyncio.sleep(1.0)
        assert csms.actions() == ["BootNotification"]
        assert (await box.status())["ocpp"]["registration"] == "rejected"
        await csms.wait_status(1, "Preparing", timeout=4)
        boots = [r for r in csms.received if r.action == "BootNotification"]
        assert boots[1].at - boots[0].at >= 1.9


async def test_reconnect_does_not_boot_again_and_reports_the_current_status(
    box: BenchClient, csms: TestCsms
) -> None:
    start = len(csms.received)
    await csms.drop_connection()
    await box.wait_for(lambda s: not s["ocpp"]["connected"], timeout=3)
    await box.bench("ev", state="B")  # changes while offline
    await csms.wait_status(1, "Preparing", since=start, timeout=5)
    assert "BootNotification" not in csms.actions(start)
    assert len(csms.paths) == 2


async def test_a_silently_dead_socket_is_found_within_two_ping_intervals(
    tmp_path: Path, csms: TestCsms
) -> None:
    async with TcpProxy(csms.port) as proxy:
        url = f"ws://127.0.0.1:{proxy.port}/ocpp"
        config = ocpp_config(csms).replace(csms.url, url)
        async with running_wallbox(tmp_path, config) as box:
            await csms.wait_status(1, "Available")
            answer = await csms.call(
                call.ChangeConfiguration(key="WebSocketPingInterval", value="1")
            )
            assert answer.status == "Accepted"
            await asyncio.sleep(1.5)  # at least one ping answered through the proxy
            loop = asyncio.get_running_loop()
            proxy.freeze()  # the peer vanishes: no FIN, no RST, nothing
            frozen_at = loop.time()
            await box.wait_for(lambda s: not s["ocpp"]["connected"], timeout=3)
            detected_after = loop.time() - frozen_at
            assert detected_after <= 2.0 + 0.3
            await box.wait_for(lambda s: s["ocpp"]["connected"], timeout=3)
            assert len(csms.paths) == 2


async def test_back_off_starts_over_after_each_connection_that_registered(
    tmp_path: Path, csms: TestCsms
) -> None:
    """Doubling is per failed attempt: a CSMS that drops registered connections again and
    again (without a closing handshake, as a crashed CSMS or a lost route does) is reconnected
    to within the minimum back-off each time."""
    config = ocpp_config(csms).replace("reconnect_max_s = 0.5", "reconnect_max_s = 60")
    async with running_wallbox(tmp_path, config):
        await csms.wait_status(1, "Available")
        gaps = []
        for drop in range(1, 8):
            mark = len(csms.received)
            csms.connections[-1].transport.abort()
            dropped_at = asyncio.get_running_loop().time()
            while len(csms.paths) <= drop:
                await asyncio.sleep(0.01)
            gaps.append(asyncio.get_running_loop().time() - dropped_at)
            await csms.wait_for("StatusNotification", since=mark)  # registered again
        assert max(gaps) < 0.1 + 0.4, f"reconnected after {gaps}"
