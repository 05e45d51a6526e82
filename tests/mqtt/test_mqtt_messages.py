"""The pure parts of MQTT: command parsing (any payload is a checked command or a clear
refusal, never anything else), the discovery messages and the state's shape."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pievse.firmware.config import MqttConfig
from pievse.firmware.mqtt.bridge import MqttBridge, topic_level
from pievse.firmware.mqtt.commands import (
    CommandError,
    SetMode,
    SetSetpoint,
    StopCharging,
    parse_command,
)
from pievse.firmware.mqtt.home_assistant import Device, Topics, discovery, page_url
from pievse.firmware.mqtt.state import state_payload

NAMES = st.sampled_from(["mode", "setpoint_a", "stop", "explode", ""])


@given(NAMES, st.binary(max_size=80) | st.text(max_size=20).map(str.encode))
def test_every_payload_is_a_checked_command_or_refused(name: str, payload: bytes) -> None:
    try:
        command = parse_command(name, payload)
    except CommandError as exc:
        assert str(exc)
        return
    text = payload.decode().strip()
    if isinstance(command, SetMode):
        assert name == "mode" and command.mode in ("fast", "pv", "min_pv", "off")
    elif isinstance(command, SetSetpoint):
        assert name == "setpoint_a"
        assert command.setpoint_a is None or 6.0 <= command.setpoint_a <= 80.0
        assert command.setpoint_a is None or float(text) == command.setpoint_a
    else:
        assert isinstance(command, StopCharging) and (name, text) == ("stop", "PRESS")


def test_the_known_commands() -> None:
    assert parse_command("mode", b" pv\n") == SetMode("pv")
    assert parse_command("setpoint_a", b"16") == SetSetpoint(16.0)
    assert parse_command("setpoint_a", b"") == SetSetpoint(None)
    assert parse_command("stop", b"PRESS") == StopCharging()


@given(st.text(min_size=1, max_size=48))
def test_a_charge_point_id_becomes_one_safe_topic_level(text: str) -> None:
    level = topic_level(text)
    assert len(level) == len(text)
    assert not set(level) & {"/", "+", "#"}


def test_discovery_declares_one_device_with_unique_entities() -> None:
    topics = Topics("pievse/box-1")
    device = Device("bench-sim", "0.1.0", "http://192.0.2.7:8080/")
    found = discovery("homeassistant", topics, "box-1", device)
    ids = [payload["unique_id"] for _, payload in found]
    assert len(ids) == len(set(ids)) == 18 + 3 + 4, "sensors, binary sensors, the controls"
    blocks = [payload["device"] for _, payload in found]
    assert {block["identifiers"][0] for block in blocks} == {"pievse_box-1"}
    assert {(b["model"], b["sw_version"], b["configuration_url"]) for b in blocks} == {
        ("bench-sim", "0.1.0", "http://192.0.2.7:8080/")
    }
    assert all(payload["availability_topic"] == topics.availability for _, payload in found)
    commands = {p["command_topic"] for _, p in found if "command_topic" in p}
    assert commands == {f"pievse/box-1/set/{n}" for n in ("mode", "setpoint_a", "stop")}
    assert all(topic.endswith("/config") for topic, _ in found)
    site = discovery("homeassistant", topics, "box-1", Device("m", "v"), site=True)
    assert {p["unique_id"] for _, p in site} - set(ids) == {
        "pievse_box-1_site_state",
        "pievse_box-1_site_share_a",
    }
    assert all("configuration_url" not in p["device"] for _, p in site)


def _entities(site: bool = True) -> dict[str, dict]:
    found = discovery("homeassistant", Topics("pievse/b"), "b", Device("m", "v"), site=site)
    return {topic.split("/")[-2]: payload for topic, payload in found}


def test_state_classes_follow_home_assistants_rules() -> None:
    """measurement for what is measured now; total_increasing for counters HA may see
    restart (a session's energy restarts at 0, which HA takes as a new cycle); none for
    text and enums (HA refuses a state class on a non-numeric sensor)."""
    entities = _entities()
    for key, payload in entities.items():
        unit = payload.get("unit_of_measurement")
        if payload.get("device_class") == "energy":
            assert payload["state_class"] == "total_increasing", key
        elif unit in ("A", "V", "W", "°C") and "command_topic" not in payload:
            assert payload["state_class"] == "measurement", key
        else:
            assert "state_class" not in payload, key
    assert {k for k, p in entities.items() if p.get("device_class") == "voltage"} == {
        "voltage_l1_v",
        "voltage_l2_v",
        "voltage_l3_v",
    }


def test_the_setpoint_offers_what_the_api_accepts() -> None:
    number = _entities()["setpoint_a"]
    assert (number["min"], number["max"]) == (6.0, 80.0)
    for value in (number["min"], number["max"], 16.0):
        assert parse_command("setpoint_a", str(value).encode()) == SetSetpoint(value)
    for value in (number["min"] - number["step"], number["max"] + number["step"]):
        with pytest.raises(CommandError):
            parse_command("setpoint_a", str(value).encode())
    lift = _entities()["lift_setpoint"]
    assert lift["command_topic"] == number["command_topic"]
    assert parse_command("setpoint_a", lift["payload_press"].encode()) == SetSetpoint(None)


def test_every_entity_reads_a_field_the_state_has() -> None:
    state = state_payload({})
    for key, payload in _entities().items():
        if "value_template" in payload:
            field = payload["value_template"].split("value_json.")[1].split()[0]
            assert field in state, key
    binary = {k for k, p in _entities().items() if p.get("payload_on") == "True"}
    assert binary == {"plugged_in", "contactor_closed", "fault"}


def _status(pilot: str, contactor: str, faults: list[str]) -> dict:
    return {
        "pilot": {"state": pilot, "offered_a": 16.0},
        "contactor": contactor,
        "faults": faults,
        "meter": {"voltage_v": [230.1, 229.5, None], "current_a": [16.0, 16.1, 0.0]},
        "connectors": {"1": {"status": "Faulted", "error_code": "GroundFailure"}},
    }


def test_the_state_says_plug_vehicle_contactor_faults_and_voltages() -> None:
    state = state_payload(_status("C", "closed", []))
    assert (state["vehicle"], state["plugged_in"], state["contactor_closed"]) == (
        "ready",
        True,
        True,
    )
    assert (state["fault"], state["fault_names"]) == (False, "none")
    assert [state[f"voltage_l{i}_v"] for i in (1, 2, 3)] == [230.1, 229.5, None]
    state = state_payload(_status("A", "open", ["rcd", "diode"]))
    assert (state["vehicle"], state["plugged_in"], state["contactor_closed"]) == (
        "disconnected",
        False,
        False,
    )
    assert (state["fault"], state["fault_names"], state["error_code"]) == (
        True,
        "rcd, diode",
        "GroundFailure",
    )
    state = state_payload(_status("F", "closed", ["contactor_weld"]))
    assert (state["vehicle"], state["plugged_in"]) == ("error", None)
    unknown = state_payload({"faults": {"error": "x"}, "meter": {"voltage_v": "junk"}})
    assert (unknown["fault"], unknown["fault_names"], unknown["voltage_l1_v"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("listen", "allowed", "url"),
    [
        ("127.0.0.1:8080", "", None),
        ("[::1]:8080", "", None),
        ("192.0.2.7:8080", "", "http://192.0.2.7:8080/"),
        ("[2001:db8::7]:80", "", "http://[2001:db8::7]:80/"),
        ("0.0.0.0:8080", "", None),
        ("0.0.0.0:8080", "wallbox.local, garage", "http://wallbox.local:8080/"),
        ("0.0.0.0:8080", " , garage", "http://garage:8080/"),
        ("wallbox.lan:8080", "", "http://wallbox.lan:8080/"),
    ],
)
def test_the_configuration_url_is_where_a_browser_elsewhere_finds_the_page(
    listen: str, allowed: str, url: str | None
) -> None:
    assert page_url(listen, allowed) == url


def _render(template: str, state: dict) -> str:
    """As Home Assistant renders a value template: a sandboxed Jinja2 environment, the
    state topic's JSON as `value_json`, the result as a string."""
    environment = ImmutableSandboxedEnvironment()
    return str(environment.from_string(template).render(value_json=state))


@pytest.mark.parametrize("pilot", ["A", "C", "F"])
def test_every_template_renders_what_its_entity_takes(pilot: str) -> None:
    """A number or text for sensors, "None" (HA's unknown) for a value the box lacks, the
    declared payloads for binary sensors, an option for the enum and the select."""
    for setpoint in (None, 12.5):
        status = _status(
            pilot, "closed" if pilot == "C" else "open", [] if pilot != "F" else ["diode"]
        )
        status["site"] = {"mode": "pv", "setpoint_a": setpoint, "sharing": None}
        state = json.loads(json.dumps(state_payload(status)))
        for key, payload in _entities().items():
            if "value_template" not in payload:
                continue
            shown = _render(payload["value_template"], state)
            if payload.get("payload_on"):
                assert shown in ("True", "False", "None"), (key, shown)
            elif "options" in payload:
                assert shown in [*payload["options"], "None"], (key, shown)
            elif key == "setpoint_a":
                assert shown == ("None" if setpoint is None else "12.5")
            elif payload.get("state_class"):
                assert shown == "None" or math.isfinite(float(shown)), (key, shown)
            else:
                assert shown and shown != "", (key, shown)
        assert (
            _render(_entities()["plugged_in"]["value_template"], state)
            == {"A": "False", "C": "True", "F": "None"}[pilot]
        )


class _Broken:
    def __init__(self) -> None:
        self.subscriptions: list[str] = []

    def accepts(self, topic: str) -> bool:
        return topic == "x/broken"

    def receive(self, topic: str, payload: bytes) -> None:
        raise KeyError("a defect in a part")

    async def run(self, client: object) -> None: ...

    async def farewell(self, client: object) -> None: ...

    def mqtt_status(self) -> dict:
        return {}


def test_a_part_that_raises_is_counted_and_the_connection_goes_on() -> None:
    acted: list[object] = []
    bridge = MqttBridge(
        MqttConfig(url="mqtt://127.0.0.1"),
        "box",
        dict,
        acted.append,
        Device("m", "v"),
        lambda: 0.0,
        [_Broken()],
    )
    bridge._route("x/broken", b"{}")
    bridge._route("pievse/box/set/mode", b"pv")
    assert bridge.describe()["failed_messages"] == 1
    assert acted == [SetMode("pv")], "the next message is routed as ever"
