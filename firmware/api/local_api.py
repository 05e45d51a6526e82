"""The local HTTP API (aiohttp): status for everyone, bench controls on simulated boards.

The contract is relied on by external test benches and the page: keep field names stable.
A bad request gets 400 with {"error": "..."} and changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from pievse.firmware.api.access import ApiAccess
from pievse.firmware.api.bodies import (
    EXPECTED,
    AvailabilityBody,
    BadRequest,
    EvBody,
    FaultBody,
    GridBody,
    ModeBody,
    TagBody,
    TemperatureBody,
    read_body,
)
from pievse.firmware.api.connection_gate import mark_requests
from pievse.firmware.api.guarded_status import GuardedStatus
from pievse.firmware.api.live_history import LiveHistory
from pievse.firmware.api.session_history import add_routes
from pievse.firmware.api.status_page import StatusChanges
from pievse.firmware.api.status_page import add_routes as add_page_routes
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.site.charging_mode import ChargingMode, ModeError
from pievse.firmware.site.grid_readings import GridReadingError, GridReadings
from pievse.hal.interfaces import BENCH_FAULTS, BenchControl

StatusProvider = Callable[[], dict[str, Any]]
log = logging.getLogger(__name__)


def build_app(
    status: StatusProvider,
    bench: BenchControl | None,
    grid: GridReadings,
    mode: ChargingMode,
    access: ApiAccess | None = None,
    sessions: SessionLog | None = None,
    page: tuple[LiveHistory, StatusChanges, Callable[[], object]] | None = None,
    availability: Availability | None = None,
) -> web.Application:
    """`access`: who may use it (every route passes its checks; the default: a loopback
    listener on 127.0.0.1 without a token); `sessions`: the history `/api/sessions` and
    `/api/sessions.csv` read; `page`: the status page's plot history, its change signal and
    what stops the session (`POST /api/session/stop`); `availability`: what
    `PUT /api/availability` changes."""
    access = access or ApiAccess()
    app = web.Application(middlewares=[mark_requests, access.middleware(), _errors_as_json])
    guarded = GuardedStatus(status)

    async def get_status(_request: web.Request) -> web.Response:
        document, code = guarded()
        return _json(document, code)

    app.router.add_get("/api/status", get_status)
    app.router.add_post("/api/bench/{action}", _bench_handler(bench))
    app.router.add_get("/api/bench", _bench_state(bench))
    app.router.add_put("/api/site/grid", _grid_handler(grid))
    app.router.add_get("/api/mode", _mode_handler(mode, put=False))
    app.router.add_put("/api/mode", _mode_handler(mode, put=True))
    if sessions is not None:
        add_routes(app, sessions)
    if page is not None:
        history, changes, stop = page
        add_page_routes(app, guarded, history, changes)

        async def stop_session(_request: web.Request) -> web.Response:
            stop()
            return _json({"ok": True})

        app.router.add_post("/api/session/stop", stop_session)
    if availability is not None:
        app.router.add_put("/api/availability", _availability_handler(availability))
    return app


def _availability_handler(availability: Availability) -> Any:
    """{"operative": true|false, "connector_id"?: 0 (the box, default) or 1}."""

    async def handle(request: web.Request) -> web.Response:
        body = read_body(AvailabilityBody, await _body(request), null_is_absent=False)
        return _json({"status": availability.change(body.connector_id, body.operative)})

    return handle


def _mode_handler(mode: ChargingMode, put: bool) -> Any:
    """{"mode": "fast"|"pv"|"min_pv"|"off", "setpoint_a"?: 6..80 or null}."""

    async def handle(request: web.Request) -> web.Response:
        if put:
            now = {"mode": mode.mode, "setpoint_a": mode.setpoint_a}
            body = read_body(
                ModeBody, now | await _body(request), null_is_absent=False, words=EXPECTED
            )
            try:
                mode.set(body.mode, body.setpoint_a)
            except ModeError as exc:
                raise BadRequest(str(exc)) from None
        return _json({"mode": mode.mode, "setpoint_a": mode.setpoint_a})

    return handle


def _grid_handler(grid: GridReadings) -> Any:
    """A grid reading from the site's own energy system: {"current_a": [L1, L2, L3]} in A,
    import positive (null for a phase it does not measure), optional "export_w"."""

    async def handle(request: web.Request) -> web.Response:
        body = read_body(GridBody, await _body(request), words=EXPECTED)
        try:
            grid.feed(body.currents(), body.export_w)
        except GridReadingError as exc:
            raise BadRequest(str(exc)) from None
        return _json({"ok": True})

    return handle


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as exc:
        return _json({"error": str(exc)}, 400)
    except web.HTTPException as exc:
        return _json({"error": exc.reason}, exc.status)
    except Exception:
        log.exception("local API: %s %s failed", request.method, request.path[:80])
        return _json({"error": "internal error (logged)"}, 500)


def _bench_handler(bench: BenchControl | None) -> Any:
    async def handle(request: web.Request) -> web.Response:
        if bench is None:
            raise web.HTTPNotFound(reason="bench controls exist only on simulated boards")
        action = request.match_info["action"]
        if action not in _ACTIONS:
            raise web.HTTPNotFound(
                reason=f"no bench action {action!r}; known: {', '.join(_ACTIONS)}"
            )
        body = await _body(request)
        _ACTIONS[action](bench, body)
        return _json({"ok": True, "ev": bench.ev_status(), "site": bench.site_status()})

    return handle


def _bench_state(bench: BenchControl | None) -> Any:
    """What the bench can inject (the page offers every fault) and what it does now."""

    async def handle(_request: web.Request) -> web.Response:
        if bench is None:
            raise web.HTTPNotFound(reason="bench controls exist only on simulated boards")
        return _json(
            {"faults": list(BENCH_FAULTS), "ev": bench.ev_status(), "site": bench.site_status()}
        )

    return handle


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:  # also UnicodeDecodeError, and an integer of 4300+ digits
        raise BadRequest(f"body is not valid JSON: {str(exc)[:120]}") from None
    except RecursionError:
        raise BadRequest("body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _ev(bench: BenchControl, body: dict[str, Any]) -> None:
    ev = read_body(EvBody, body)
    bench.set_ev(ev.state, ev.max_current_a, ev.phases, ev.ignores_phase_switch)


def _tag(bench: BenchControl, body: dict[str, Any]) -> None:
    bench.present_tag(read_body(TagBody, body).id_tag)


def _fault(bench: BenchControl, body: dict[str, Any]) -> None:
    fault = read_body(FaultBody, body)
    bench.set_fault(fault.fault, fault.active)


def _temperature(bench: BenchControl, body: dict[str, Any]) -> None:
    celsius = read_body(TemperatureBody, body).celsius
    if celsius is None:
        raise BadRequest("celsius is required")
    bench.set_temperature(celsius)


def _site(bench: BenchControl, body: dict[str, Any]) -> None:
    """Live house load and PV, or a scenario day played at a speed."""
    try:
        bench.set_site(body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


_ACTIONS: dict[str, Callable[[BenchControl, dict[str, Any]], None]] = {
    "ev": _ev,
    "site": _site,
    "tag": _tag,
    "fault": _fault,
    "temperature": _temperature,
}
