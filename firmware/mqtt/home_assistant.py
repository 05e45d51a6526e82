"""Home Assistant MQTT discovery: one retained config message per entity, all of one device,
all reading the one state topic with a value template. Pure: topics and payloads only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pievse.firmware.site.charging_mode import MAX_SETPOINT_A, MODES


@dataclass(frozen=True)
class Topics:
    base: str
    """<topic_prefix>/<charge point id>"""

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    def command(self, name: str) -> str:
        return f"{self.base}/set/{name}"


AMPS = {"unit_of_measurement": "A", "device_class": "current"}
ENERGY = {"unit_of_measurement": "Wh", "device_class": "energy"}
SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("status", "Status", {}),
    ("pilot", "Pilot state", {}),
    ("offered_a", "Offered current", AMPS),
    ("current_l1_a", "Current L1", AMPS),
    ("current_l2_a", "Current L2", AMPS),
    ("current_l3_a", "Current L3", AMPS),
    ("power_w", "Power", {"unit_of_measurement": "W", "device_class": "power"}),
    (
        "energy_wh",
        "Energy",
        {**ENERGY, "state_class": "total_increasing"},
    ),
    (
        "session_energy_wh",
        "Session energy",
        {"unit_of_measurement": "Wh", "device_class": "energy"},
    ),
    ("temperature_c", "Temperature", {"unit_of_measurement": "°C", "device_class": "temperature"}),
    ("limit_a", "Current limit", AMPS),
    ("limit_source", "Limit source", {}),
)


def discovery(
    prefix: str, topics: Topics, node: str, model: str, version: str
) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) for every entity; `node` is the charge point id made safe
    for a topic level."""
    device = {
        "identifiers": [f"pievse_{node}"],
        "name": f"pievse {node}",
        "manufacturer": "pievse",
        "model": model,
        "sw_version": version,
    }
    common = {"availability_topic": topics.availability, "device": device}

    def entity(kind: str, key: str, name: str, extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload = {"name": name, "unique_id": f"pievse_{node}_{key}", **common, **extra}
        return f"{prefix}/{kind}/pievse_{node}/{key}/config", payload

    found = [
        entity(
            "sensor",
            key,
            name,
            {"state_topic": topics.state, "value_template": f"{{{{ value_json.{key} }}}}", **extra},
        )
        for key, name, extra in SENSORS
    ]
    found.append(
        entity(
            "select",
            "mode",
            "Charging mode",
            {
                "state_topic": topics.state,
                "value_template": "{{ value_json.mode }}",
                "command_topic": topics.command("mode"),
                "options": list(MODES),
            },
        )
    )
    found.append(
        entity(
            "number",
            "setpoint_a",
            "Current setpoint",
            {
                "state_topic": topics.state,
                "value_template": "{{ value_json.setpoint_a or 0 }}",
                "command_topic": topics.command("setpoint_a"),
                "min": 0,
                "max": MAX_SETPOINT_A,
                "step": 1,
                "unit_of_measurement": "A",
            },
        )
    )
    found.append(
        entity(
            "button",
            "stop",
            "Stop charging",
            {"command_topic": topics.command("stop"), "payload_press": "PRESS"},
        )
    )
    return found
