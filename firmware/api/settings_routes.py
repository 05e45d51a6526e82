"""`GET /api/settings` lists the keys the page may set, with their values in force (never a
secret's); `PUT /api/settings` checks a change as the config file's loader would, writes
the file and restarts the box so it applies. Both need the token even over loopback once
one exists (`api/access.py`): the settings hold the CSMS URL and its credentials.

A refused value: 400 `{"error": <the loader's message>, "key": "<section>.<name>"}`;
settings that cannot be saved here at all (no config file, an unreadable or unwritable
one, a restart under way): 409. Success: 202 `{"restart": true, "started_at": ...}`, sent
before the restart begins; the page waits for another `started_at`. A change the start
refused and rolled back shows in `GET` as `"refused": {"error", "at"}` until the next."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from pievse.firmware.api.access import SETTINGS_PATH
from pievse.firmware.api.settings_file import SettingRefused, SettingsUnsaved


class Settings(Protocol):
    """The box's settings as the route needs them."""

    started_at: str
    """ISO-8601 UTC time this process started: another one means the restart happened."""

    def describe(self) -> list[dict[str, Any]]:
        """Each offered key; a secret's value is null, `set` says whether one is set."""

    def refused(self) -> dict[str, str] | None:
        """`{"error", "at"}` of the last change the start refused and rolled back, while
        the file put back is still the one in force; None otherwise."""

    def change(self, body: Mapping[str, Any]) -> None:
        """Checks and saves; raises SettingRefused (nothing written) or SettingsUnsaved.
        Must not restart: the answer goes out first."""

    async def restart(self) -> None:
        """Stops the box as on SIGTERM and starts the same command line again."""


def add_settings_routes(app: web.Application, settings: Settings) -> None:
    async def get(_request: web.Request) -> web.Response:
        answer: dict[str, Any] = {"started_at": settings.started_at, "keys": settings.describe()}
        refused = settings.refused()
        if refused is not None:
            answer["refused"] = refused
        return web.json_response(answer)

    async def put(request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):  # ValueError: also a number of 4300+ digits
            body = None
        if not isinstance(body, dict):
            return _refused("body must be a JSON object of settings", None)
        try:
            settings.change(body)
        except SettingRefused as exc:
            return _refused(str(exc), exc.key)
        except SettingsUnsaved as exc:
            return web.json_response({"error": str(exc)}, status=409)
        response = web.json_response(
            {"restart": True, "started_at": settings.started_at}, status=202
        )
        await response.prepare(request)
        await response.write_eof()
        await settings.restart()
        return response

    app.router.add_get(SETTINGS_PATH, get)
    app.router.add_put(SETTINGS_PATH, put)


def _refused(error: str, key: str | None) -> web.Response:
    return web.json_response({"error": error, "key": key}, status=400)
