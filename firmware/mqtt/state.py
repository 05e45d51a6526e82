"""What the box publishes as its state: a small, flat view of `/api/status` that a home
automation can template without knowing the whole document."""

from __future__ import annotations

from typing import Any

from pievse.firmware.mqtt.home_assistant import VEHICLE_STATES

VEHICLE = dict(zip("ABCD", VEHICLE_STATES, strict=False)) | {"E": "error", "F": "error"}
"""The pilot state -> what the EV is doing, in HA's enum options."""
PLUGGED = {"A": False, "B": True, "C": True, "D": True}
"""E and F say nothing about the plug: unknown."""


def state_payload(status: dict[str, Any]) -> dict[str, Any]:
    """A part the document reports as `{"error": ...}` (it could not describe itself) gives
    None for its fields, like a part the box does not have."""
    connector = _part(_part(status, "connectors"), "1")
    meter = _part(status, "meter")
    site = _part(status, "site")
    pilot = _part(status, "pilot")
    limit = _part(status, "limit")
    session = _part(status, "session")
    sharing = _part(site, "sharing")
    currents = _phases(meter.get("current_a"))
    voltages = _phases(meter.get("voltage_v"))
    contactor = _plain(status.get("contactor"))
    faults = status.get("faults")
    faults = faults if isinstance(faults, list) else None
    return {
        "status": connector.get("status"),
        "error_code": connector.get("error_code"),
        "pilot": pilot.get("state"),
        "vehicle": VEHICLE.get(str(pilot.get("state"))),
        "plugged_in": PLUGGED.get(str(pilot.get("state"))),
        "contactor": contactor,
        "contactor_closed": None if contactor is None else contactor == "closed",
        "offered_a": pilot.get("offered_a"),
        "current_l1_a": currents[0],
        "current_l2_a": currents[1],
        "current_l3_a": currents[2],
        "voltage_l1_v": voltages[0],
        "voltage_l2_v": voltages[1],
        "voltage_l3_v": voltages[2],
        "power_w": meter.get("power_w"),
        "energy_wh": meter.get("energy_import_wh"),
        "session_energy_wh": session.get("energy_wh"),
        "temperature_c": _plain(status.get("temperature_c")),
        "limit_a": limit.get("current_a"),
        "limit_source": limit.get("source"),
        "mode": site.get("mode"),
        "setpoint_a": site.get("setpoint_a"),
        "faults": faults,
        "fault": None if faults is None else bool(faults),
        "fault_names": None if faults is None else ", ".join(faults) or "none",
        "site_state": sharing.get("state"),
        "site_share_a": sharing.get("share_a"),
    }


def _part(document: dict[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name)
    return value if isinstance(value, dict) and "error" not in value else {}


def _phases(values: Any) -> list[Any]:
    return list(values) if isinstance(values, list | tuple) and len(values) == 3 else [None] * 3


def _plain(value: Any) -> Any:
    return None if isinstance(value, dict) else value
