"""The `/api/status` document (DESIGN: local API), built here and nowhere else: the local
API, DataTransfer "pievse"/"Status" and GetDiagnostics all send this one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from pievse.firmware.app.run_options import firmware_version
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.control.controller import ChargeController
from pievse.firmware.control.core_boundary import CoreState
from pievse.firmware.session.reservations import Reservation
from pievse.firmware.session.sessions import Session

if TYPE_CHECKING:
    from pievse.firmware.app.ocpp_core import OcppServices
    from pievse.firmware.app.wallbox import Wallbox

log = logging.getLogger(__name__)
STANDALONE = {"connected": False, "registration": "standalone", "csms_url": None}
FAILURE_LOG_EVERY_S = 60.0


class PartFailures:
    """Each part of the document is described on its own: one that raises is reported as
    `{"error": ...}` in its place instead of turning the whole answer into a 500, and logged
    with its traceback once a minute (the page asks every second, per open stream)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._logged: dict[str, float] = {}

    def describe(self, parts: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
        """Each part under its name."""
        return self.merge({name: _under(name, part) for name, part in parts.items()})

    def merge(self, fragments: Mapping[str, Callable[[], dict[str, Any]]]) -> dict[str, Any]:
        """Each fragment's keys side by side; a fragment that raises is its name's error."""
        document: dict[str, Any] = {}
        for name, fragment in fragments.items():
            try:
                document |= fragment()
            except Exception as exc:
                document[name] = {"error": f"{type(exc).__name__}: {exc}"}
                self._log(name)
        return document

    def _log(self, name: str) -> None:
        now = self._monotonic()
        last = self._logged.get(name)
        if last is None or now - last >= FAILURE_LOG_EVERY_S:
            self._logged[name] = now
            log.exception("status part %r could not describe itself", name)


def status_document(
    controller: ChargeController,
    board_name: str,
    charge_point_id: str,
    reservation: Callable[[], Reservation | None],
    ocpp: OcppServices | None,
    site: Mapping[str, Callable[[], dict[str, Any]]],
    failures: PartFailures,
) -> dict[str, Any]:
    """`reservation` and `site`'s fragments are asked here, each inside its own guard."""
    session = controller.session
    return failures.describe(
        {
            "connectors": lambda: {
                "0": _connector(controller.box_status(), None),
                "1": _session_connector(controller, session, ocpp),
            },
            "pilot": lambda: _pilot(controller),
            "contactor": lambda: "closed" if controller.contactor_closed else "open",
            "limit": lambda: _limit(controller, ocpp),
            "cable_rating_a": lambda: controller.cable_rating_a,
            "temperature_c": lambda: round(controller.temperatures_c["Body"], 2),
            "outlet_temperature_c": lambda: _rounded(controller.temperatures_c.get("Outlet")),
            "ev_soc_percent": lambda: controller.ev_soc_percent,
            "faults": lambda: sorted(f.value for f in controller.supervisor.faults()),
            "listener_errors": lambda: controller.guard.errors,
            "meter": lambda: meter_part(controller.state),
            "session": lambda: None if session is None else _session(controller, session),
            "board": lambda: board_name,
            "reservation": lambda: _reservation(reservation()),
            "charge_point_id": lambda: charge_point_id,
            "ocpp": lambda: STANDALONE if ocpp is None else ocpp.link.describe(),
            "site": lambda: failures.merge(site),
        }
    )


def box_status(box: Wallbox, failures: PartFailures) -> dict[str, Any]:
    """A running box's whole document: the controller's parts, the site's, and the box's
    own (its MQTT bridge, its firmware, whether it runs on a bench)."""
    controller, main_fuse, share, mqtt = box.controller, box.main_fuse, box.site_share, box.mqtt
    document = status_document(
        controller,
        box.board.name,
        box.config.charge_point.id,
        box.reservations.current,
        box.ocpp,
        {
            "grid": box.grid.describe,
            "main_fuse": lambda: {"main_fuse": None if main_fuse is None else main_fuse.describe()},
            "charging_mode": box.charging_mode.describe,
            "phases": lambda: {"phases": controller.state.phases.describe()},
            "sharing": lambda: {"sharing": None if share is None else share.describe()},
        },
        failures,
    )
    return document | failures.describe(
        {
            "mqtt": lambda: None if mqtt is None else mqtt.describe(),
            "firmware_version": firmware_version,
            "bench": lambda: box.board.bench is not None,
        }
    )


def _under(name: str, part: Callable[[], Any]) -> Callable[[], dict[str, Any]]:
    return lambda: {name: part()}


def _session_connector(
    controller: ChargeController, session: Session | None, ocpp: OcppServices | None
) -> dict[str, Any]:
    connector = _connector(controller.connector_status(), session.id if session else None)
    if ocpp is not None and session is not None:
        connector["transaction_id"] = ocpp.transactions.transaction_id(session.id)
        connector["session_id"] = session.id
    return connector


def _pilot(controller: ChargeController) -> dict[str, Any]:
    sample = controller.pilot_sample
    duty = controller.duty
    return {
        "state": sample.state.value,
        "duty_percent": _rounded(duty),
        "offered_a": _offered_a(controller),
        "next_offered_a": _next_offered_a(controller),
        "high_v": sample.high_v,
        "low_v": sample.low_v,
    }


def _limit(controller: ChargeController, ocpp: OcppServices | None) -> dict[str, Any]:
    offer = controller.offer
    limit: dict[str, Any] = {
        "current_a": round(offer.current_a, 2),
        "source": offer.source,
        "sources": {s.source: round(s.current_a, 2) for s in controller.active_limits},
    }
    if ocpp is not None:
        limit["charging_profile"] = ocpp.smart.describe()
    return limit


def _session(controller: ChargeController, session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "id_tag": session.id_tag,
        "started_at": session.started_at.isoformat(),
        "energy_wh": round(controller.energy_wh - session.meter_start_wh, 3),
    }


def meter_part(state: CoreState) -> dict[str, Any]:
    """The meter's health, then its latest reading, both as the core's last step left them."""
    health, m = state.meter, state.measurements
    readings = {}
    if m is not None:
        readings = asdict(m)
        readings["timestamp"] = m.timestamp.isoformat()
    return {
        "online": health.online,
        "consecutive_failures": health.consecutive_failures,
        "errors": dict(health.errors),
        "last_energy_flagged": state.meter_flagged,
        "energy_refused": health.energy_refused,
        **readings,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


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


def _reservation(reservation: Reservation | None) -> dict[str, Any] | None:
    if reservation is None:
        return None
    return {
        "id": reservation.id,
        "connector_id": reservation.connector_id,
        "id_tag": reservation.id_tag,
        "parent_id_tag": reservation.parent_id_tag,
        "expires_at": reservation.expires_at.isoformat(),
    }
