"""MQTT against a real mosquitto broker on loopback: availability with a last will, Home
Assistant discovery, the state on change, commands that go through the API's checks, and a
broker that is down, restarts or refuses the login never touching charging."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FAST_CONFIG, running_wallbox, start_charging
from tests.rigs.mosquitto import MOSQUITTO, Broker, Watcher
from tests.rigs.pki import Pki
from tests.rigs.process import PIEVSE, free_port

pytestmark = pytest.mark.skipif(
    not Path(MOSQUITTO).exists() and not os.environ.get("CI"),
    reason="mosquitto not installed (.ci/run installs it; under CI this fails instead)",
)
BASE = "pievse/pievse-0001"


def mqtt_config(broker: Broker, extra: str = "") -> str:
    return FAST_CONFIG + f'\n[mqtt]\nurl = "{broker.url}"\nstate_interval_s = 1.0\n{extra}'


async def state(watch: Watcher, predicate, timeout: float = 5.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        raw = watch.last(f"{BASE}/state")
        if raw is not None and predicate(json.loads(raw)):
            return json.loads(raw)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"state not reached within {timeout} s; last {raw!r}")
        await asyncio.sleep(0.05)


async def test_availability_discovery_and_state_follow_the_box(
    tmp_path: Path, broker: Broker
) -> None:
    async with broker.watch() as watch, running_wallbox(tmp_path, mqtt_config(broker)) as box:
        await watch.wait_for(f"{BASE}/availability", b"online")
        select = json.loads(
            await watch.wait_for("homeassistant/select/pievse_pievse-0001/mode/config")
        )
        assert select["command_topic"] == f"{BASE}/set/mode"
        assert select["options"] == ["fast", "pv", "min_pv", "off"]
        assert select["availability_topic"] == f"{BASE}/availability"
        for kind in ("number/pievse_pievse-0001/setpoint_a", "button/pievse_pievse-0001/stop"):
            await watch.wait_for(f"homeassistant/{kind}/config")
        sensors = [t for t, _, _ in watch.messages if t.startswith("homeassistant/sensor/")]
        assert len(set(sensors)) == 18
        await state(watch, lambda s: s["status"] == "Available" and s["mode"] == "fast")
        await start_charging(box)
        charging = await state(watch, lambda s: s["status"] == "Charging" and s["power_w"])
        assert charging["current_l1_a"] == pytest.approx(32.0, abs=0.5)
        assert (charging["limit_a"], charging["limit_source"]) == (32.0, "board")
        assert (await box.status())["mqtt"]["connected"] is True
    async with broker.watch() as late:
        # retained: a client that comes later sees the state and the discovery at once
        await late.wait_for(f"{BASE}/availability", b"offline")
        await late.wait_for("homeassistant/select/pievse_pievse-0001/mode/config")
        await late.wait_for(f"{BASE}/state")


async def _entity(watch: Watcher, kind: str, key: str, node: str = "pievse-0001") -> dict:
    return json.loads(await watch.wait_for(f"homeassistant/{kind}/pievse_{node}/{key}/config"))


async def test_each_entity_people_act_on_is_discovered_and_follows_the_box(
    tmp_path: Path, broker: Broker
) -> None:
    async with broker.watch() as watch, running_wallbox(tmp_path, mqtt_config(broker)) as box:
        await watch.wait_for(f"{BASE}/availability", b"online")
        expected = {
            ("sensor", "error_code"): {},
            ("sensor", "vehicle"): {"device_class": "enum"},
            ("sensor", "fault_names"): {},
            ("sensor", "voltage_l1_v"): {"device_class": "voltage", "state_class": "measurement"},
            ("sensor", "voltage_l2_v"): {"device_class": "voltage", "state_class": "measurement"},
            ("sensor", "voltage_l3_v"): {"unit_of_measurement": "V"},
            ("sensor", "current_l2_a"): {"state_class": "measurement"},
            ("sensor", "power_w"): {"state_class": "measurement"},
            ("sensor", "temperature_c"): {"state_class": "measurement"},
            ("sensor", "session_energy_wh"): {"state_class": "total_increasing"},
            ("binary_sensor", "plugged_in"): {"device_class": "plug", "payload_on": "True"},
            ("binary_sensor", "contactor_closed"): {"device_class": "power"},
            ("binary_sensor", "fault"): {"device_class": "problem"},
            ("number", "setpoint_a"): {"min": 6.0, "max": 80.0, "step": 0.1},
            ("button", "lift_setpoint"): {"payload_press": "none"},
        }
        for (kind, key), fields in expected.items():
            payload = await _entity(watch, kind, key)
            assert payload.items() >= fields.items(), (key, payload)
            assert payload["state_topic" if kind != "button" else "command_topic"].startswith(BASE)
            assert payload["device"]["sw_version"] == (await box.status())["firmware_version"]
            assert payload["device"]["model"] == "bench-sim"
        assert not [t for t, _, _ in watch.messages if "/site_state/" in t], "not a site box"
        idle = await state(watch, lambda s: s["status"] == "Available")
        assert (idle["vehicle"], idle["plugged_in"], idle["contactor_closed"]) == (
            "disconnected",
            False,
            False,
        )
        assert (idle["fault"], idle["fault_names"], idle["error_code"]) == (
            False,
            "none",
            "NoError",
        )
        await start_charging(box)
        charging = await state(watch, lambda s: s["contactor_closed"] is True)
        assert (charging["vehicle"], charging["plugged_in"]) == ("ready", True)
        for phase in (1, 2, 3):
            assert charging[f"voltage_l{phase}_v"] == pytest.approx(230.0, abs=5)
        await watch.publish(f"{BASE}/set/setpoint_a", "12.5")
        await state(watch, lambda s: s["setpoint_a"] == 12.5)
        await watch.publish(f"{BASE}/set/setpoint_a", "none")
        await state(watch, lambda s: s["setpoint_a"] is None)
        await box.bench("fault", fault="rcd", active=True)
        tripped = await state(watch, lambda s: s["fault"] is True)
        assert tripped["fault_names"] == "rcd"
        tripped = await state(watch, lambda s: s["error_code"] == "GroundFailure")
        assert tripped["contactor_closed"] is False


async def test_a_site_box_declares_its_site_state_and_share(tmp_path: Path, broker: Broker) -> None:
    site = f'\n[site]\nid = "home"\nmain_fuse_a = 32.0\nsecret = "{"s" * 16}"\n'
    async with broker.watch() as watch, running_wallbox(tmp_path, mqtt_config(broker) + site):
        share = await _entity(watch, "sensor", "site_share_a")
        assert (share["device_class"], share["state_class"]) == ("current", "measurement")
        assert (await _entity(watch, "sensor", "site_state"))["value_template"] == (
            "{{ value_json.site_state }}"
        )
        published = await state(watch, lambda s: s["site_state"] is not None)
        assert published["site_state"] in ("joining", "failsafe", "shared")
        assert isinstance(published["site_share_a"], float)


async def test_a_site_message_no_json_parser_takes_is_ignored_and_the_bridge_lives_on(
    tmp_path: Path, broker: Broker
) -> None:
    """Python's JSON parser refuses an integer of more than 4300 digits with a plain
    ValueError and nests about a thousand deep before a RecursionError: neither is its
    JSONDecodeError, and either, on a site topic, ended the box's MQTT task."""
    site = f'\n[site]\nid = "home"\nmain_fuse_a = 32.0\nsecret = "{"s" * 16}"\n'
    hostile = [b'{"v": ' + b"9" * 5000 + b"}", b"[" * 8000, b'{"a": ' * 3000]
    async with (
        broker.watch() as watch,
        running_wallbox(tmp_path, mqtt_config(broker) + site) as box,
    ):
        await watch.wait_for(f"{BASE}/availability", b"online")
        for payload in hostile:
            await watch.publish("pievse/site/home/box/stranger", payload)
            await watch.publish("pievse/site/home/grid", payload)
        status = await box.wait_for(
            lambda s: s["site"]["sharing"]["ignored_messages"] >= 2 * len(hostile), timeout=5
        )
        await watch.publish(f"{BASE}/set/mode", "off")
        status = await box.wait_for(lambda s: s["site"]["mode"] == "off")
        assert status["mqtt"]["connected"] and status["mqtt"]["last_error"] is None
        assert status["mqtt"]["failed_messages"] == 0, "the codec refused them itself"


async def test_commands_go_through_the_apis_checks(tmp_path: Path, broker: Broker) -> None:
    async with broker.watch() as watch, running_wallbox(tmp_path, mqtt_config(broker)) as box:
        await watch.wait_for(f"{BASE}/availability", b"online")
        await start_charging(box)
        await watch.publish(f"{BASE}/set/mode", "off")
        await box.wait_for(lambda s: s["site"]["mode"] == "off")
        await watch.publish(f"{BASE}/set/setpoint_a", "10")
        await box.wait_for(lambda s: s["site"]["setpoint_a"] == 10.0)
        for topic, payload in (
            ("mode", "turbo"),
            ("setpoint_a", "3"),
            ("setpoint_a", "lots"),
            ("stop", "now"),
            ("explode", "PRESS"),
            ("mode", "\xff" * 100),
        ):
            await watch.publish(f"{BASE}/set/{topic}", payload)
        status = await box.wait_for(lambda s: s["mqtt"]["refused_commands"] == 6)
        assert (status["site"]["mode"], status["site"]["setpoint_a"]) == ("off", 10.0)
        assert status["session"] is not None, "nothing refused stopped the session"
        assert await box.get("/api/mode") == (200, {"mode": "off", "setpoint_a": 10.0})
        await watch.publish(f"{BASE}/set/mode", "fast")
        await watch.publish(f"{BASE}/set/setpoint_a", "0")
        await box.wait_for(
            lambda s: s["site"]["mode"] == "fast" and s["site"]["setpoint_a"] is None
        )
        await box.wait_status("1", "Charging")
        await watch.publish(f"{BASE}/set/stop", "PRESS")
        await box.wait_for(lambda s: s["session"] is None)


async def test_a_broker_that_is_down_or_restarts_never_touches_charging(
    tmp_path: Path, broker: Broker
) -> None:
    broker.stop()
    async with running_wallbox(tmp_path, mqtt_config(broker)) as box:
        charging = await start_charging(box)
        assert charging["mqtt"]["connected"] is False
        assert charging["mqtt"]["last_error"]
        broker.start()
        await box.wait_for(lambda s: s["mqtt"]["connected"], timeout=8)
        broker.stop()
        await box.wait_for(lambda s: not s["mqtt"]["connected"], timeout=5)
        status = await box.wait_status("1", "Charging")
        assert status["session"]["id"] == charging["session"]["id"]
        broker.start()
        async with broker.watch() as watch:
            await watch.wait_for(f"{BASE}/availability", b"online", timeout=10)
        assert (await box.status())["connectors"]["1"]["status"] == "Charging"


async def test_a_refused_login_is_reported_and_the_password_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "broker"
    directory.mkdir()
    broker = Broker(directory, users={"box": "right-password"})
    broker.start()
    try:
        extra = 'username = "box"\npassword = "wrong-secret"\n'
        async with running_wallbox(tmp_path, mqtt_config(broker, extra)) as box:
            status = await box.wait_for(lambda s: s["mqtt"]["last_error"], timeout=5)
            assert "auth" in status["mqtt"]["last_error"].lower()
            await start_charging(box)
        assert "wrong-secret" not in caplog.text
        right = 'username = "box"\npassword = "right-password"\n'
        async with running_wallbox(tmp_path / "2", mqtt_config(broker, right)) as box:
            await box.wait_for(lambda s: s["mqtt"]["connected"], timeout=5)
    finally:
        broker.stop()


async def test_mqtts_checks_the_brokers_certificate_against_the_configured_ca(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "broker"
    directory.mkdir()
    site_ca, stranger = Pki("Site CA"), Pki("Someone else")
    broker = Broker(directory, tls=site_ca.server("127.0.0.1").write(directory, "broker"))
    (tmp_path / "site-ca.pem").write_text(site_ca.root.pem())
    (tmp_path / "stranger.pem").write_text(stranger.root.pem())
    broker.start()
    try:
        wrong = f'ca_file = "{tmp_path / "stranger.pem"}"\n'
        async with running_wallbox(tmp_path / "a", mqtt_config(broker, wrong)) as box:
            status = await box.wait_for(lambda s: s["mqtt"]["last_error"], timeout=5)
            assert not status["mqtt"]["connected"]
            assert "certificate" in status["mqtt"]["last_error"].lower()
        right = f'ca_file = "{tmp_path / "site-ca.pem"}"\n'
        async with running_wallbox(tmp_path / "b", mqtt_config(broker, right)) as box:
            status = await box.wait_for(lambda s: s["mqtt"]["connected"], timeout=5)
            assert status["mqtt"]["broker"] == f"127.0.0.1:{broker.port}"
    finally:
        broker.stop()


async def test_the_last_will_says_offline_when_the_box_is_killed(
    tmp_path: Path, broker: Broker
) -> None:
    config = tmp_path / "mqtt.toml"
    config.write_text(mqtt_config(broker))
    command = [*PIEVSE, "run", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    command += ["--api", f"127.0.0.1:{free_port()}"]
    async with broker.watch() as watch:
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            await watch.wait_for(f"{BASE}/availability", b"online", timeout=15)
            process.send_signal(signal.SIGKILL)
            process.wait()
            await watch.wait_for(f"{BASE}/availability", b"offline", timeout=60)
        finally:
            process.kill()
            process.wait()


def test_a_bad_mqtt_url_is_a_config_error() -> None:
    from pievse.firmware.config import ConfigError, parse_config

    for url in ("http://x", "mqtt://", "mqtt://h:99999", "mqtt://h/path"):
        with pytest.raises(ConfigError, match=r"\[mqtt\] url"):
            parse_config({"mqtt": {"url": url}})


async def test_a_retained_command_is_ignored_at_every_connect_and_a_live_one_still_acts(
    tmp_path: Path, broker: Broker
) -> None:
    async with broker.watch() as stranger:
        await stranger.publish(f"{BASE}/set/stop", "PRESS", retain=True)
        await stranger.publish(f"{BASE}/set/mode", "off", retain=True)
    async with running_wallbox(tmp_path, mqtt_config(broker)) as box:
        charging = await start_charging(box)
        await box.wait_for(lambda s: s["mqtt"]["connected"] and s["mqtt"]["ignored_retained"] == 2)
        # A client taking over the box's client id cuts its connection: it reconnects and
        # the broker hands it the retained commands again.
        async with broker.watch(identifier="pievse-pievse-0001"):
            await box.wait_for(lambda s: not s["mqtt"]["connected"])
        await box.wait_for(lambda s: s["mqtt"]["ignored_retained"] == 4, timeout=10)
        status = await box.wait_status("1", "Charging")
        assert status["session"]["id"] == charging["session"]["id"]
        assert status["site"]["mode"] == "fast"
        async with broker.watch() as owner:
            await owner.publish(f"{BASE}/set/stop", "PRESS")
        await box.wait_for(lambda s: s["session"] is None)


async def test_a_flood_of_refused_commands_is_counted_not_logged_each_time(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    async with broker.watch() as stranger, running_wallbox(tmp_path, mqtt_config(broker)) as box:
        await stranger.wait_for(f"{BASE}/availability", b"online")
        for i in range(200):
            await stranger.publish(f"{BASE}/set/mode", f"junk-{i}")
        await box.wait_for(lambda s: s["mqtt"]["refused_commands"] == 200, timeout=10)
    logged = [r for r in caplog.records if "refused, nothing changed" in r.getMessage()]
    assert 1 <= len(logged) <= 10
