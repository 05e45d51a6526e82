"""`POST /api/commission` runs the bring-up checklist and answers its report;
`GET /api/commission` answers the last one kept. JSON bodies only: `{}` (no options yet)."""

from __future__ import annotations

import json

from aiohttp import web

from pievse.firmware.commissioning.runs import Commissioning, CommissionRefused


def add_commission_routes(app: web.Application, runs: Commissioning) -> None:
    """A run refused (a session charges, another run goes on) is answered 409."""

    async def run(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # ValueError: also a number of 4300+ digits
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object: {}"}, status=400)
        if body:
            name = sorted(body)[0]
            return web.json_response({"error": f"unknown field {name!r}"}, status=400)
        try:
            return web.json_response(await runs.run())
        except CommissionRefused as exc:
            return web.json_response({"error": str(exc)}, status=409)

    async def last(_request: web.Request) -> web.Response:
        report = runs.last()
        if report is None:
            return web.json_response(
                {"error": "no commissioning report yet: POST /api/commission runs one"},
                status=404,
            )
        return web.json_response(report)

    app.router.add_post("/api/commission", run)
    app.router.add_get("/api/commission", last)
