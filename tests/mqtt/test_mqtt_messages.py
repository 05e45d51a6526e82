"""The pure parts of MQTT: command parsing (any payload is a checked command or a clear
refusal, never anything else), the discovery messages and the state's shape."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.mqtt.bridge import topic_level
from pievse.firmware.mqtt.commands import (
    CommandError,
    SetMode,
    SetSetpoint,
    StopCharging,
    parse_command,
)
from pievse.firmware.mqtt.home_assistant import Topics, discovery

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
    found = discovery("homeassistant", topics, "box-1", "bench-sim", "0.1.0")
    ids = [payload["unique_id"] for _, payload in found]
    assert len(ids) == len(set(ids)) == 15, "12 sensors, the mode, the setpoint, stop"
    assert {payload["device"]["identifiers"][0] for _, payload in found} == {"pievse_box-1"}
    assert all(payload["availability_topic"] == topics.availability for _, payload in found)
    commands = {p["command_topic"] for _, p in found if "command_topic" in p}
    assert commands == {f"pievse/box-1/set/{n}" for n in ("mode", "setpoint_a", "stop")}
    assert all(topic.endswith("/config") for topic, _ in found)
