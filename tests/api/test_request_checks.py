"""A web page in a browser on the box, a DNS-rebound name, or a file transfer the CSMS points
at the box must not drive its loopback API: writes need `Content-Type: application/json`,
`Host` must name the box, a present `Origin` must be the box's own page. Each request is
written byte by byte against the running bench box (its real server, gate and handlers)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from pievse.firmware.api.access import ApiAccess
from pievse.firmware.api.local_api import build_app
from tests.conftest import BenchClient, start_charging
from tests.rigs.local_server import serving
from tests.rigs.raw_http import raw_request

JSON = {"Content-Type": "application/json"}
EVIL = "http://attacker.example"


def port_of(bench: BenchClient) -> int:
    assert bench.wallbox.api_address is not None
    return bench.wallbox.api_address[1]


async def still_charging(bench: BenchClient) -> None:
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["contactor"] == "closed"


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        # a cross-origin form or fetch without preflight: text/plain, urlencoded, multipart
        ({"Content-Type": "text/plain", "Origin": EVIL}, b"{}", 403),
        ({"Content-Type": "text/plain"}, b"{}", 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=b", 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--\r\n", 415),
        ({}, b"", 415),
        # what GetDiagnostics's upload sends
        ({"Content-Type": "application/octet-stream"}, b'{"x": 1}', 415),
        # JSON but from another origin (a preflight this API never grants)
        ({**JSON, "Origin": EVIL}, b"{}", 403),
        ({**JSON, "Origin": "null"}, b"{}", 403),
    ],
)
async def test_a_foreign_or_non_json_stop_is_refused_and_the_session_goes_on(
    bench: BenchClient, headers: dict[str, str], body: bytes, code: int
) -> None:
    await start_charging(bench)
    status, answer = await raw_request(port_of(bench), "POST", "/api/session/stop", headers, body)
    assert status == code, answer
    assert isinstance(answer, dict) and answer["error"]
    await still_charging(bench)


async def test_the_box_own_page_and_a_script_with_json_still_stop_it(bench: BenchClient) -> None:
    port = port_of(bench)
    await start_charging(bench)
    own = {**JSON, "Origin": f"http://127.0.0.1:{port}"}
    status, answer = await raw_request(port, "POST", "/api/session/stop", own)
    assert (status, answer) == (200, {"ok": True})
    await bench.wait_for(lambda s: s["session"] is None and s["contactor"] == "open")


WRITES = [
    ("PUT", "/api/mode", {"mode": "off"}),
    ("PUT", "/api/site/grid", {"current_a": [0, 0, 0]}),
    ("PUT", "/api/availability", {"operative": False}),
    ("POST", "/api/bench/fault", {"fault": "rcd", "active": True}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize(
    "host", ["attacker.example:8080", "rebind.attacker.example", "192.0.2.1", "[::2]", "x y"]
)
async def test_a_foreign_host_is_refused_and_changes_nothing(
    bench: BenchClient, method: str, path: str, body: dict[str, Any], host: str
) -> None:
    """DNS rebinding: the attacker's name now points at 127.0.0.1; the page is same-origin
    with itself, so only `Host` tells it apart."""
    before = await bench.status()
    grid_before = bench.wallbox.grid.describe()
    origin = {"Origin": f"http://{host}"}
    for headers in ({**JSON, "Host": host}, {**JSON, "Host": host, **origin}):
        status, answer = await raw_request(
            port_of(bench), method, path, headers, json.dumps(body).encode()
        )
        assert status == 403, answer
        assert "Host" in answer["error"]
    after = await bench.status()
    assert after["site"]["mode"] == before["site"]["mode"] == "fast"
    assert after["connectors"] == before["connectors"]
    assert after["faults"] == []
    assert bench.wallbox.grid.describe() == grid_before


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::ffff:127.0.0.1]"]
)
async def test_the_box_own_names_pass(bench: BenchClient, host: str) -> None:
    port = port_of(bench)
    headers = {**JSON, "Host": host.format(port=port)}
    status, answer = await raw_request(port, "PUT", "/api/mode", headers, b'{"mode": "off"}')
    assert status == 200, answer
    assert bench.wallbox.charging_mode.mode == "off"


async def test_reading_stays_open_and_a_foreign_origin_cannot_read(bench: BenchClient) -> None:
    port = port_of(bench)
    for path in ("/", "/api/status", "/static/status.js", "/api/sessions.csv"):
        status, _ = await raw_request(port, "GET", path)
        assert status == 200, path
    status, answer = await raw_request(port, "GET", "/api/status", {"Origin": EVIL})
    assert status == 403 and "Origin" in answer["error"]
    status, answer = await raw_request(port, "GET", "/api/sessions", {"Host": "attacker.example"})
    assert status == 403


async def test_names_the_owner_configured_pass_and_others_do_not(bench: BenchClient) -> None:
    box = bench.wallbox
    access = ApiAccess(allowed_hosts=frozenset({"wallbox.lan"}))
    app = build_app(box.status, box.board.bench, box.grid, box.charging_mode, access)
    async with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        named = {**JSON, "Host": "WallBox.lan.:8080", "Origin": "http://wallbox.lan:8080"}
        status, answer = await raw_request(port, "PUT", "/api/mode", named, b'{"mode": "pv"}')
        assert status == 200, answer
        other = {**JSON, "Host": "wallbox.lan.attacker.example"}
        status, _ = await raw_request(port, "PUT", "/api/mode", other, b'{"mode": "off"}')
        assert status == 403
    assert box.charging_mode.mode == "pv"


async def test_deeply_nested_json_is_a_400_in_json(bench: BenchClient) -> None:
    for depth in (100_000, 400_000):
        nested = b"[" * depth + b"]" * depth
        status, answer = await raw_request(port_of(bench), "POST", "/api/bench/ev", JSON, nested)
        assert status in (400, 413), answer
        assert isinstance(answer, dict) and answer["error"]
    deep = b'{"state": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, answer = await raw_request(port_of(bench), "POST", "/api/bench/ev", JSON, deep)
    assert (status, answer["error"]) == (400, "body is nested too deeply")
    assert (await bench.status())["pilot"]["state"] == "A"


async def test_a_body_that_trickles_is_a_408_and_a_huge_one_a_413(
    bench: BenchClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pievse.firmware.api.access.BODY_TIMEOUT_S", 0.5)
    port = port_of(bench)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"PUT /api/mode HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    writer.write(head.encode() + b'{"mode": ')
    async with asyncio.timeout(5):
        answer = await reader.read(1000)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive" in answer
    huge = b'{"mode": "off", "x": "' + b"a" * 2_000_000 + b'"}'
    status, reply = await raw_request(port, "PUT", "/api/mode", JSON, huge)
    assert status == 413 and reply["error"]
    assert bench.wallbox.charging_mode.mode == "fast"


async def test_a_route_added_after_the_checks_gets_them_too(bench: BenchClient) -> None:
    """Commissioning's route is added to the built app; the checks are the app's, so a
    page elsewhere or a transfer cannot start it either."""
    port = port_of(bench)
    for headers, code in (
        ({"Content-Type": "text/plain"}, 415),
        ({**JSON, "Origin": EVIL}, 403),
        ({**JSON, "Host": "rebind.attacker.example"}, 403),
    ):
        status, answer = await raw_request(port, "POST", "/api/commission", headers, b"{}")
        assert status == code, answer
    status, last = await raw_request(port, "GET", "/api/commission")
    assert (status, last["error"][:29]) == (404, "no commissioning report yet: "), "none ran"
