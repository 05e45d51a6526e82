"""In a real Chromium: the box's own page still stops a session and changes availability
(bodiless and JSON writes with the JSON content type), while a page of another origin that
posts without a preflight (a no-cors fetch, a text/plain form) and a page under a name
rebound to the box's address (Chromium's resolver maps it to 127.0.0.1) change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from selenium.webdriver.support.ui import Select

from tests.conftest import BenchClient, start_charging
from tests.rigs.local_server import serving
from tests.rigs.page_browser import click, fresh, module_browser, needs_chromium, run, shows, until

pytestmark = needs_chromium
REBOUND = "rebound.example"


@pytest.fixture(scope="module")
def chromium_once() -> Iterator[Any]:
    yield from module_browser(f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1")


@pytest.fixture
def chromium(chromium_once: Any) -> Any:
    return fresh(chromium_once)


def attacker_page(target: str) -> web.Application:
    """What a page anywhere can do without a CORS preflight: a no-cors text/plain fetch, a
    text/plain form into a hidden frame, and (refused by the browser itself) a JSON fetch."""
    html = f"""<!doctype html><html><body>
<iframe name="sink" hidden></iframe>
<form id="f" method="POST" action="{target}/api/session/stop" enctype="text/plain"
 target="sink"><input name='{{"x":"' value='"}}'></form>
<script>
const done = [];
fetch("{target}/api/session/stop", {{method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain"}}, body: "{{}}"}}).finally(() => done.push("plain"));
fetch("{target}/api/mode", {{method: "PUT", mode: "no-cors", body: '{{"mode": "off"}}'}})
  .finally(() => done.push("mode"));
fetch("{target}/api/session/stop", {{method: "POST",
  headers: {{"Content-Type": "application/json"}}, body: "{{}}"}})
  .catch(() => done.push("json refused")).then(() => done.push("json"));
document.getElementById("f").submit();
window.done = done;
</script></body></html>"""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    return app


async def test_the_box_own_page_stops_a_session_and_sets_availability(
    bench: BenchClient, chromium: Any
) -> None:
    await start_charging(bench)
    await run(chromium.get, f"{bench.base}/")
    await until(chromium, shows(chromium, "status", "Charging"), "page")
    await click(chromium, "stop")
    await bench.wait_for(lambda s: s["session"] is None and s["contactor"] == "open")
    await run(lambda: Select(chromium.find_element("id", "availability")).select_by_value("false"))
    await click(chromium, "apply-availability")
    await bench.wait_for(lambda s: s["connectors"]["0"]["status"] == "Unavailable")
    assert await run(lambda: chromium.find_element("id", "control-result").text) == ""


async def test_a_page_of_another_origin_cannot_stop_the_session(
    bench: BenchClient, chromium: Any
) -> None:
    await start_charging(bench)
    async with serving(attacker_page(bench.base)) as elsewhere:
        await run(chromium.get, f"{elsewhere}/")
        await until(
            chromium,
            lambda: len(chromium.execute_script("return window.done || []")) >= 4,
            "the attacker's requests",
        )
        await asyncio.sleep(0.5)  # the form's navigation in the frame
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["contactor"] == "closed"
    assert status["site"]["mode"] == "fast"


async def test_a_page_under_a_rebound_name_cannot_use_the_api(
    bench: BenchClient, chromium: Any
) -> None:
    """The page is same-origin with itself (its name now resolves to the box), so CORS does
    not stop it: the `Host` check does."""
    await start_charging(bench)
    port = bench.base.rsplit(":", 1)[1]
    await run(chromium.get, f"http://{REBOUND}:{port}/")
    answers = await run(
        lambda: chromium.execute_async_script(
            """const reply = arguments[arguments.length - 1];
            const json = {"Content-Type": "application/json"};
            Promise.all([
              fetch("/api/mode", {method: "PUT", headers: json, body: '{"mode": "off"}'}),
              fetch("/api/session/stop", {method: "POST", headers: json}),
              fetch("/api/site/grid", {method: "PUT", headers: json,
                body: '{"current_a": [0, 0, 0]}'}),
              fetch("/api/status"),
            ]).then((rs) => reply(rs.map((r) => r.status)));"""
        )
    )
    assert answers == [403, 403, 403, 403]
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["site"]["mode"] == "fast"
