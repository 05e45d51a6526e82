"""The session history the status page and an installer's spreadsheet read: the last
sessions from SQLite, as JSON and as CSV. The rows are pure functions of the sessions."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from pievse.firmware.session.sessions import Session, SessionLog

COLUMNS = ("id", "id_tag", "started_at", "stopped_at", "energy_wh", "stop_reason")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting so is run as a formula by spreadsheets (an id tag is anyone's text)."""


def session_row(session: Session) -> dict[str, Any]:
    stop = session.meter_stop_wh
    return {
        "id": session.id,
        "id_tag": session.id_tag,
        "started_at": session.started_at.isoformat(),
        "stopped_at": None if session.stopped_at is None else session.stopped_at.isoformat(),
        "energy_wh": None if stop is None else round(stop - session.meter_start_wh, 3),
        "stop_reason": session.stop_reason,
    }


def sessions_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _cell(row[k]) for k in COLUMNS} for row in rows)
    return out.getvalue()


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading `'`, which makes it
    text (the JSON list keeps the value as it is); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def add_routes(app: web.Application, log: SessionLog) -> None:
    def rows(request: web.Request) -> list[dict[str, Any]]:
        raw = request.query.get("limit", str(DEFAULT_LIMIT))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise web.HTTPBadRequest(reason=f"limit must be 1..{MAX_LIMIT}, got {raw[:20]!r}")
        return [session_row(s) for s in log.recent(int(raw))]

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response({"sessions": rows(request)})

    async def as_csv(request: web.Request) -> web.Response:
        return web.Response(
            text=sessions_csv(rows(request)),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="pievse-sessions.csv"'},
        )

    app.router.add_get("/api/sessions", as_json)
    app.router.add_get("/api/sessions.csv", as_csv)
