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
MAX_STREAMS = 16
"""Open event streams at most (each holds a connection for as long as its page is open)."""


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

    @property
    def open_streams(self) -> int:
        return len(self._streams)


TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


CONDITIONAL = ("If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range")


def _compressed(request: web.Request, response: web.FileResponse) -> web.FileResponse:
    """Gzipped for a browser that asks (the words of two languages are most of the page's
    weight and shrink to a quarter). Not for a conditional request: aiohttp then writes an
    empty gzip stream after a 304's head, bytes the browser reads as the next answer's."""
    if not any(name in request.headers for name in CONDITIONAL):
        response.enable_compression()
    return response


def add_routes(
    app: web.Application,
    status: Callable[[], tuple[dict[str, Any], int]],
    history: LiveHistory,
    changes: StatusChanges,
) -> None:
    """`status`: the document and its HTTP status (not 200: it could not be built, and
    the stream skips that push)."""

    async def page(request: web.Request) -> web.FileResponse:
        return _compressed(request, web.FileResponse(STATIC / "index.html"))

    async def static(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in TYPES:
            raise web.HTTPNotFound(reason=f"no static file {name[:40]!r}")
        headers = {"Content-Type": TYPES[path.suffix]}
        return _compressed(request, web.FileResponse(path, headers=headers))

    async def events(request: web.Request) -> web.StreamResponse:
        if changes.open_streams >= MAX_STREAMS:
            return web.json_response(
                {"error": f"{MAX_STREAMS} event streams are open already; try again later"},
                status=503,
                headers={"Retry-After": "10"},
            )
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        changed = changes.stream()  # counted before the first await, so the cap holds
        try:
            await response.prepare(request)
            while True:
                changed.clear()
                document, code = status()
                if code == 200:
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
