"""The settings contract (`GET`/`PUT /api/settings`) as a stub the page's form is tested
against on the box's own API: the token, keys with types and bounds, a refused value
answered with its key, and a restart that changes `started_at` a moment after a good PUT."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web


class SettingsStub:
    """Mounted with `routes` on an application; `writes` are the accepted PUT bodies."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.started_at = "2026-12-07T00:00:00+00:00"
        self.writes: list[dict[str, Any]] = []
        self.next_start_refuses: str | None = None
        """The error the next start refuses the written file with (it is then rolled back)."""
        self.refused: dict[str, str] | None = None
        self.restarts = 0
        self.keys = [
            {"key": "ocpp.csms_url", "type": "string", "secret": False, "set": True,
             "value": "ws://old.example/ocpp", "description": "the central system's URL"},
            {"key": "ocpp.version", "type": "choice", "choices": ["1.6", "2.0.1", "auto"],
             "secret": False, "set": True, "value": "1.6", "description": "OCPP version"},
            {"key": "security.authorization_key", "type": "string", "secret": True,
             "set": False, "value": None, "description": "Basic auth password"},
            {"key": "site.main_fuse_a", "type": "number", "min": 0, "max": 1000,
             "secret": False, "set": True, "value": 0.0, "description": "0 (off) or 6..1000"},
        ]  # fmt: skip

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/settings", self.get)
        app.router.add_put("/api/settings", self.put)

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "this route needs the API token"}, status=401)
        return None

    async def get(self, request: web.Request) -> web.Response:
        keys = [
            k | {"section": k["key"].split(".")[0], "name": k["key"].split(".")[1]}
            for k in self.keys
        ]
        answer: dict[str, Any] = {"started_at": self.started_at, "keys": keys}
        if self.refused is not None:
            answer["refused"] = self.refused
        return self._refused(request) or web.json_response(answer)

    async def put(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused:
            return refused
        body = json.loads(await request.read())
        fuse = body.get("site.main_fuse_a")
        if fuse is not None and not (fuse == 0 or 6 <= fuse <= 1000):
            error = f"[site] main_fuse_a: expected 0 (off) or 6..1000, got {fuse!r}"
            return web.json_response({"error": error, "key": "site.main_fuse_a"}, status=400)
        self.writes.append(body)
        self.refused = None
        if self.next_start_refuses is not None:
            error, self.next_start_refuses = self.next_start_refuses, None
            asyncio.get_running_loop().call_later(0.8, self._rolled_back, error)
            return web.json_response({"restart": True, "started_at": self.started_at}, status=202)
        for entry in self.keys:
            if entry["key"] in body and not entry["secret"]:
                entry["value"] = body[entry["key"]]
        asyncio.get_running_loop().call_later(0.8, self._restarted)
        return web.json_response({"restart": True, "started_at": self.started_at}, status=202)

    def _restarted(self) -> None:
        self.restarts += 1
        self.started_at = f"2026-12-07T00:{5 * self.restarts:02d}:00+00:00"

    def _rolled_back(self, error: str) -> None:
        self.refused = {"error": error, "at": "2026-12-07T00:30:00+00:00"}
        self._restarted()
