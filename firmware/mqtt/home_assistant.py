"""Home Assistant MQTT discovery: one retained config message per entity, all of one device,
all reading the one state topic with a value template. Pure: topics and payloads only.

What HA keeps statistics of carries its `state_class`: `measurement` for what is measured
now (currents, power, voltages, temperature), `total_increasing` for the energy counters (a
drop is a new cycle to HA: a meter replaced, a new session). The setpoint number offers
what `PUT /api/mode` accepts; its state is "None" (HA's reset payload: unknown) while no
setpoint is set, and a button lifts it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from pievse.firmware.config import allowed_host_names, parse_listen
from pievse.firmware.control.duty_cycle import MIN_CURRENT_A
from pievse.firmware.site.charging_mode import MAX_SETPOINT_A, MODES

SETPOINT_STEP_A = 0.1
"""The API takes any value in range; a tenth of an ampere is finer than a pilot offers."""
LIFT_SETPOINT = "none"
"""What `set/setpoint_a` takes to lift the setpoint."""


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


@dataclass(frozen=True)
class Device:
    """What HA's device page shows of the box."""

    model: str
    version: str
    configuration_url: str | None = None
    """The status page, where HA's users can reach it; None: nowhere they could."""


def page_url(listen: str, allowed_hosts: str) -> str | None:
    """The status page's URL as HA's users would open it: the address the API listens on,
    or for a wildcard listener the first of `[api] allowed_hosts`; None on loopback (a
    browser elsewhere would open its own machine) and where no name is known."""
    address = parse_listen(listen)
    if address is None:
        return None
    host, port = address
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return None
    if ip is not None and ip.is_unspecified:
        if not allowed_host_names(allowed_hosts):
            return None
        names = (n.strip().lower().rstrip(".") for n in allowed_hosts.split(","))
        host, ip = next(n for n in names if n), None
    shown = f"[{host}]" if ip is not None and ip.version == 6 else host
    return f"http://{shown}:{port}/"


MEASURED = {"state_class": "measurement"}
AMPS = {"unit_of_measurement": "A", "device_class": "current", **MEASURED}
VOLTS = {"unit_of_measurement": "V", "device_class": "voltage", **MEASURED}
ENERGY = {"unit_of_measurement": "Wh", "device_class": "energy", "state_class": "total_increasing"}
VEHICLE_STATES = ("disconnected", "connected", "ready", "ventilation", "error")
"""The pilot's states A, B, C, D and E/F in words (`state.vehicle_state`)."""
SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("status", "Status", {}),
    ("error_code", "Error code", {}),
    ("pilot", "Pilot state", {}),
    ("vehicle", "Vehicle", {"device_class": "enum", "options": list(VEHICLE_STATES)}),
    ("fault_names", "Faults", {}),
    ("offered_a", "Offered current", AMPS),
    ("current_l1_a", "Current L1", AMPS),
    ("current_l2_a", "Current L2", AMPS),
    ("current_l3_a", "Current L3", AMPS),
    ("voltage_l1_v", "Voltage L1", VOLTS),
    ("voltage_l2_v", "Voltage L2", VOLTS),
    ("voltage_l3_v", "Voltage L3", VOLTS),
    ("power_w", "Power", {"unit_of_measurement": "W", "device_class": "power", **MEASURED}),
    ("energy_wh", "Energy", ENERGY),
    ("session_energy_wh", "Session energy", ENERGY),
    (
        "temperature_c",
        "Temperature",
        {"unit_of_measurement": "°C", "device_class": "temperature", **MEASURED},
    ),
    ("limit_a", "Current limit", AMPS),
    ("limit_source", "Limit source", {}),
)
SITE_SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("site_state", "Site state", {}),
    ("site_share_a", "Site share", AMPS),
)
"""Only on a box that shares a site."""
BINARY_SENSORS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("plugged_in", "Plugged in", {"device_class": "plug"}),
    ("contactor_closed", "Contactor", {"device_class": "power"}),
    ("fault", "Fault", {"device_class": "problem"}),
)
"""State fields that are true, false or null: the template renders "True", "False" or
"None" (HA's word for unknown)."""


def discovery(
    prefix: str, topics: Topics, node: str, device: Device, site: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) for every entity; `node` is the charge point id made safe
    for a topic level; `site`: the box shares a site (its state and share are entities)."""
    block = {
        "identifiers": [f"pievse_{node}"],
        "name": f"pievse {node}",
        "manufacturer": "pievse",
        "model": device.model,
        "sw_version": device.version,
    }
    if device.configuration_url:
        block["configuration_url"] = device.configuration_url
    common = {"availability_topic": topics.availability, "device": block}

    def entity(kind: str, key: str, name: str, extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        payload = {"name": name, "unique_id": f"pievse_{node}_{key}", **common, **extra}
        return f"{prefix}/{kind}/pievse_{node}/{key}/config", payload

    def reading(key: str) -> dict[str, str]:
        return {"state_topic": topics.state, "value_template": f"{{{{ value_json.{key} }}}}"}

    sensors = SENSORS + (SITE_SENSORS if site else ())
    found = [entity("sensor", key, name, reading(key) | extra) for key, name, extra in sensors]
    found += [
        entity(
            "binary_sensor",
            key,
            name,
            reading(key) | {"payload_on": "True", "payload_off": "False"} | extra,
        )
        for key, name, extra in BINARY_SENSORS
    ]
    found += _controls(entity, topics)
    return found


def _controls(entity: Any, topics: Topics) -> list[tuple[str, dict[str, Any]]]:
    """The mode, the setpoint and the buttons: what `PUT /api/mode` and a stop do."""
    setpoint = "value_json.setpoint_a"
    return [
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
        ),
        entity(
            "number",
            "setpoint_a",
            "Current setpoint",
            {
                "state_topic": topics.state,
                "value_template": f"{{{{ {setpoint} if {setpoint} is not none else 'None' }}}}",
                "command_topic": topics.command("setpoint_a"),
                "min": MIN_CURRENT_A,
                "max": MAX_SETPOINT_A,
                "step": SETPOINT_STEP_A,
                "unit_of_measurement": "A",
                "device_class": "current",
            },
        ),
        entity(
            "button",
            "lift_setpoint",
            "Lift current setpoint",
            {"command_topic": topics.command("setpoint_a"), "payload_press": LIFT_SETPOINT},
        ),
        entity(
            "button",
            "stop",
            "Stop charging",
            {"command_topic": topics.command("stop"), "payload_press": "PRESS"},
        ),
    ]
