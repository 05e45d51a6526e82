"""The status page: static files shipped in the package (no build step, no CDN: a box on a
site has no internet), the status pushed as server-sent events, the plot's history."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from pievse.firmware.api.live_history import MAX_MINUTES, LiveHistory, point
from pievse.firmware.event_wait import wait_set

STATIC = Path(__file__).parent / "static"
PUSH_S = 1.0
"""The status is pushed at least this often, and at once when it changes."""


class StatusChanges:
    """Tells the open event streams that the status changed. The control loop's step
    listener calls `note` with a cheap key of what a person watches (states, contactor,
    offer, faults); it only sets events, so a page can never slow a step."""

    def __init__(self) -> None:
        self._key: object = None
        self._streams: set[asyncio.Event] = set()

    def note(self, key: object) -> None:
        if key == self._key:
            return
        self._key = key
        for stream in self._streams:
            stream.set()

    def stream(self) -> asyncio.Event:
        event = asyncio.Event()
        self._streams.add(event)
        return event

    def close(self, event: asyncio.Event) -> None:
        self._streams.discard(event)


TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def add_routes(
    app: web.Application,
    status: Callable[[], dict[str, Any]],
    history: LiveHistory,
    changes: StatusChanges,
) -> None:
    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def static(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in TYPES:
            raise web.HTTPNotFound(reason=f"no static file {name[:40]!r}")
        return web.FileResponse(path, headers={"Content-Type": TYPES[path.suffix]})

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        changed = changes.stream()
        try:
            while True:
                changed.clear()
                document = status()
                message = {"status": document, "point": point(document, time.time())}
                await response.write(f"data: {json.dumps(message)}\n\n".encode())
                await wait_set(changed, PUSH_S)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            changes.close(changed)
        return response

    async def recent(request: web.Request) -> web.Response:
        """?minutes=N (1..a week; default 10)."""
        raw = request.query.get("minutes", "10")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_MINUTES:
            raise web.HTTPBadRequest(reason=f"minutes must be 1..{MAX_MINUTES}, got {raw[:20]!r}")
        return web.json_response({"points": history.recent(int(raw))})

    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/history", recent)
