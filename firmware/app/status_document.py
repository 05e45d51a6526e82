"""The `/api/status` document (DESIGN: local API), built here and nowhere else: the local
API, DataTransfer "pievse"/"Status" and GetDiagnostics all send this one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.session.reservations import Reservation

if TYPE_CHECKING:
    from pievse.firmware.app.ocpp_parts import OcppServices

STANDALONE = {"connected": False, "registration": "standalone", "csms_url": None}


def status_document(
    controller: ChargeController,
    board_name: str,
    charge_point_id: str,
    reservation: Reservation | None,
    ocpp: OcppServices | None,
    site: dict[str, Any],
) -> dict[str, Any]:
    session = controller.session
    sample = controller.pilot_sample
    duty = controller.duty
    offer = controller.offer
    temperatures = controller.temperatures_c
    outlet = temperatures.get("Outlet")
    connector = _connector(controller.connector_status(), session.id if session else None)
    limit: dict[str, Any] = {
        "current_a": round(offer.current_a, 2),
        "source": offer.source,
        "sources": {s.source: round(s.current_a, 2) for s in controller.active_limits},
    }
    if ocpp is not None and session is not None:
        connector["transaction_id"] = ocpp.transactions.transaction_id(session.id)
        connector["session_id"] = session.id
    if ocpp is not None:
        limit["charging_profile"] = ocpp.smart.describe()
    return {
        "connectors": {"0": _connector(controller.box_status(), None), "1": connector},
        "pilot": {
            "state": sample.state.value,
            "duty_percent": None if duty is None else round(duty, 2),
            "offered_a": _offered_a(controller),
            "next_offered_a": _next_offered_a(controller),
            "high_v": sample.high_v,
            "low_v": sample.low_v,
        },
        "contactor": "closed" if controller.contactor_closed else "open",
        "limit": limit,
        "cable_rating_a": controller.cable_rating_a,
        "temperature_c": round(temperatures["Body"], 2),
        "outlet_temperature_c": None if outlet is None else round(outlet, 2),
        "ev_soc_percent": controller.ev_soc_percent,
        "faults": sorted(f.value for f in controller.supervisor.faults()),
        "listener_errors": controller.guard.errors,
        "meter": controller.meter.describe(),
        "session": None
        if session is None
        else {
            "id": session.id,
            "id_tag": session.id_tag,
            "started_at": session.started_at.isoformat(),
            "energy_wh": round(controller.meter.energy_wh - session.meter_start_wh, 3),
        },
        "board": board_name,
        "reservation": None if reservation is None else _reservation(reservation),
        "charge_point_id": charge_point_id,
        "ocpp": STANDALONE if ocpp is None else ocpp.link.describe(),
        "site": site,
    }


def plot_inputs(controller: ChargeController) -> dict[str, Any]:
    """The part of the document the plot samples each second, without building the rest."""
    measurements = controller.measurements
    meter = (
        {}
        if measurements is None
        else {"current_a": list(measurements.current_a), "power_w": measurements.power_w}
    )
    return {"pilot": {"offered_a": _offered_a(controller)}, "meter": meter}


def _offered_a(controller: ChargeController) -> float:
    """What the duty cycle offers now: what the EV reads from the pilot."""
    return round(controller.offered_a, 2)


def _next_offered_a(controller: ChargeController) -> float:
    """What the pilot offers once a held raise applies (the lowest limit now); the same as
    `offered_a` when nothing is held, 0 while the pilot offers nothing."""
    return round(controller.offer.current_a, 2) if controller.duty is not None else 0.0


def status_key(controller: ChargeController) -> tuple[object, ...]:
    """What a person watching the page would see change: compared each step, cheaply."""
    return (
        controller.connector_status(),
        controller.box_status(),
        controller.pilot_sample.state,
        controller.duty,
        controller.contactor_closed,
        controller.offer,
        tuple(controller.supervisor.faults()),
    )


def _connector(status: ConnectorStatus, transaction_id: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "status": status.status,
        "error_code": status.error_code,
        "transaction_id": transaction_id,
    }
    if status.vendor_error_code:
        entry["vendor_error_code"] = status.vendor_error_code
    return entry


def _reservation(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "connector_id": reservation.connector_id,
        "id_tag": reservation.id_tag,
        "parent_id_tag": reservation.parent_id_tag,
        "expires_at": reservation.expires_at.isoformat(),
    }
