"""What the box publishes as its state: a small, flat view of `/api/status` that a home
automation can template without knowing the whole document."""

from __future__ import annotations

from typing import Any


def state_payload(status: dict[str, Any]) -> dict[str, Any]:
    connector = status["connectors"]["1"]
    meter = status.get("meter") or {}
    site = status.get("site") or {}
    session = status.get("session")
    sharing = site.get("sharing")
    currents = meter.get("current_a") or [None, None, None]
    return {
        "status": connector["status"],
        "error_code": connector["error_code"],
        "pilot": status["pilot"]["state"],
        "contactor": status["contactor"],
        "offered_a": status["pilot"]["offered_a"],
        "current_l1_a": currents[0],
        "current_l2_a": currents[1],
        "current_l3_a": currents[2],
        "power_w": meter.get("power_w"),
        "energy_wh": meter.get("energy_import_wh"),
        "session_energy_wh": None if session is None else session["energy_wh"],
        "temperature_c": status["temperature_c"],
        "limit_a": status["limit"]["current_a"],
        "limit_source": status["limit"]["source"],
        "mode": site.get("mode"),
        "setpoint_a": site.get("setpoint_a"),
        "faults": status["faults"],
        "site_state": None if sharing is None else sharing["state"],
        "site_share_a": None if sharing is None else sharing["share_a"],
    }
