"""The local API wired to a `Wallbox`: the app over the box's status, bench, site readings,
mode, sessions, plot and availability, behind the access checks for its listening address,
with the commissioning and settings routes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from pievse.firmware.api.access import access_for
from pievse.firmware.api.commission_routes import add_commission_routes
from pievse.firmware.api.local_api import build_app
from pievse.firmware.api.settings_routes import add_settings_routes
from pievse.firmware.session.stop_reasons import StopReason

if TYPE_CHECKING:
    from pievse.firmware.app.wallbox import Wallbox


def local_api(box: Wallbox, host: str, token_places: Sequence[Path]) -> web.Application:
    """`host`: the address it listens on (beyond loopback a token is asked for);
    `token_places`: where a token made at the first start is shown."""
    controller = box.controller
    app = build_app(
        box.status,
        box.board.bench,
        box.grid,
        box.charging_mode,
        access_for(host, box.config.api, box.store, token_places),
        box.session_log,
        (
            box.history,
            box.status_changes,
            lambda: controller.sessions.stop_session(StopReason.LOCAL),
        ),
        box.availability,
    )
    add_commission_routes(app, box.commissioning)
    add_settings_routes(app, box.settings)
    return app
