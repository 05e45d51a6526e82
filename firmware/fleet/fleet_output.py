"""Where a fleet's reports go: text lines (with rates since the report before), the
`--summary` JSON file (replaced whole, so a reader never sees half of one), and the latest
report for `--metrics` to serve as Prometheus text."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from pievse.firmware.fleet.fleet_report import FleetReport
from pievse.firmware.fleet.report_rendering import prometheus_text, report_lines

log = logging.getLogger(__name__)


class FleetOutput:
    def __init__(self, say: Callable[[str], None], summary_path: Path | None) -> None:
        self._say = say
        self._summary_path = summary_path
        self.latest: FleetReport | None = None

    def __call__(self, report: FleetReport) -> None:
        for line in report_lines(report, self.latest):
            self._say(line)
        self.latest = FleetReport.from_json(report.to_json())  # a copy: counts move on
        if self._summary_path is not None:
            write_summary(self._summary_path, report)


def write_summary(path: Path, report: FleetReport) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(json.dumps(report.to_json(), indent=1))
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("cannot write the fleet summary %s: %s", path, exc)


async def serve_metrics(output: FleetOutput, host: str, port: int) -> web.AppRunner:
    """GET /metrics: the latest report (a scrape never walks the boxes itself)."""

    async def metrics(_request: web.Request) -> web.Response:
        text = "" if output.latest is None else prometheus_text(output.latest)
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
