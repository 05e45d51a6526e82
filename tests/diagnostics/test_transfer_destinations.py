"""A CSMS cannot turn the box's transfers against the box: GetDiagnostics, GetLog and
UpdateFirmware locations at the box's own local API (any address it answers on, by any
name) or at a link-local address are refused before any connection, with the failure
status and a security event. A log server on loopback stays reachable."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from ocpp.v16 import call

from pievse.firmware.transfer.destinations import DestinationGuard, parse_address
from pievse.firmware.transfer.file_transfer import FileTransfers
from pievse.firmware.transfer.transfer_error import TransferError
from tests.conftest import BenchClient, ocpp_config, running_wallbox, start_charging
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import HttpFiles

API_PORT = 8080


def _guard(own: set[str] = frozenset()) -> tuple[DestinationGuard, list[str]]:  # type: ignore[assignment]
    refused: list[str] = []
    guard = DestinationGuard(lambda: API_PORT, refused.append, lambda a: str(a) in own)
    return guard, refused


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1", "[::1]", "192.0.2.7"],
)
def test_the_api_port_on_any_address_the_box_answers_on_is_refused(address: str) -> None:
    guard, refused = _guard(own={"192.0.2.7"})
    with pytest.raises(TransferError) as raised:
        guard.check("box", address, API_PORT)
    assert raised.value.status == "PermissionDenied"
    assert "own local API" in refused[0]


@given(st.ip_addresses(v=4, network="169.254.0.0/16") | st.ip_addresses(v=6, network="fe80::/10"))
def test_link_local_addresses_are_refused_on_every_port(address: ipaddress._BaseAddress) -> None:
    guard, refused = _guard()
    with pytest.raises(TransferError):
        guard.check("metadata", str(address), 80)
    assert "link-local" in refused[-1]


@given(st.integers(1, 65535).filter(lambda p: p != API_PORT))
def test_loopback_servers_on_other_ports_stay_allowed(port: int) -> None:
    guard, refused = _guard()
    guard.check("localhost", "127.0.0.1", port)
    guard.check("localhost", "::1", port)
    guard.check("elsewhere", "192.0.2.8", API_PORT)
    assert refused == []


def test_addresses_are_read_as_the_kernel_would_connect() -> None:
    assert parse_address("::ffff:169.254.169.254") == ipaddress.ip_address("169.254.169.254")
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_address("example.org") is None


def api_port(box: BenchClient) -> int:
    return int(box.base.rsplit(":", 1)[1])


async def test_get_diagnostics_to_the_own_api_does_not_stop_the_session(
    box: BenchClient, csms: TestCsms
) -> None:
    await start_charging(box)
    await csms.wait_status(1, "Charging")
    port = api_port(box)
    for location in (
        f"http://127.0.0.1:{port}/api/session/stop",
        f"http://localhost:{port}/api/session/stop",
        f"http://[::ffff:127.0.0.1]:{port}/api/session/stop",
        f"http://0.0.0.0:{port}/api/session/stop",
    ):
        mark = len(csms.received)
        await csms.call(call.GetDiagnostics(location, retries=1, retry_interval=0))
        await csms.wait_for(
            "DiagnosticsStatusNotification", lambda p: p["status"] == "UploadFailed", 10, mark
        )
        event = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidMessages", since=mark
        )
        assert "own local API" in event["tech_info"], location
    assert (await box.status())["connectors"]["1"]["status"] == "Charging"
    assert "StopTransaction" not in csms.actions()


async def test_get_log_to_a_link_local_address_is_refused(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    mark = len(csms.received)
    log = {"remoteLocation": "http://169.254.169.254/latest/"}
    await csms.call(call.GetLog(log=log, log_type="DiagnosticsLog", request_id=3, retries=2))
    await csms.wait_for("LogStatusNotification", lambda p: p["status"] == "PermissionDenied", 10)
    assert [p["status"] for p in csms.of("LogStatusNotification", mark)] == [
        "Uploading",
        "PermissionDenied",
    ], "not retried"
    event = await csms.wait_for(
        "SecurityEventNotification", lambda p: p["type"] == "InvalidMessages", since=mark
    )
    assert "link-local" in event["tech_info"]
    mark = len(csms.received)
    log = {"remoteLocation": f"{files.base}/files/"}
    await csms.call(call.GetLog(log=log, log_type="DiagnosticsLog", request_id=4))
    await csms.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded", 10, mark)


async def test_update_firmware_from_the_own_api_is_refused(tmp_path: Path, csms: TestCsms) -> None:
    """Even where the owner opted out of signatures (so the bundle is fetched at once)."""
    extra = "\n[firmware]\nallow_unsigned = true\n"
    async with running_wallbox(tmp_path, ocpp_config(csms, extra=extra)) as box:
        await csms.wait_status(0, "Available")
        mark = len(csms.received)
        location = f"http://localhost:{api_port(box)}/api/status"
        await csms.call(call.UpdateFirmware(location, now_iso(), retries=2, retry_interval=0))
        await csms.wait_for(
            "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed", 10, mark
        )
        assert [p["status"] for p in csms.of("FirmwareStatusNotification", mark)] == [
            "Downloading",
            "DownloadFailed",
        ], "not retried"
        event = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidMessages", since=mark
        )
        assert "own local API" in event["tech_info"]


@pytest.mark.parametrize(
    "location",
    [
        f"http://127.0.0.1:{API_PORT}/api/session/stop",
        f"http://[::1]:{API_PORT}/api/session/stop",
        f"http://localhost:{API_PORT}/api/session/stop",
        f"ftp://localhost:{API_PORT}/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1%25lo]/x",
    ],
)
async def test_every_road_to_a_refused_place_is_closed(location: str) -> None:
    """Literal hosts, names, IPv6 and FTP alike, downloads and uploads."""
    guard, refused = _guard()
    transfers = FileTransfers(guard, download_deadline_s=5)
    with pytest.raises(TransferError) as fetching:
        await transfers.fetch(location, 100)
    assert fetching.value.status == "PermissionDenied"
    assert await transfers.upload_with_retries(location, "f", b"x", 3, 0) == "PermissionDenied"
    assert len(refused) == 2


async def test_a_redirect_to_a_refused_place_is_not_followed() -> None:
    """A firmware server on loopback (allowed) that redirects to the API's port; a redirect
    elsewhere on it is followed."""

    async def redirect(_request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://127.0.0.1:{API_PORT}/api/session/stop")

    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/real")

    async def real(_request: web.Request) -> web.Response:
        return web.Response(body=b"bundle")

    app = web.Application()
    app.router.add_get("/bundle", redirect)
    app.router.add_get("/moved", moved)
    app.router.add_get("/real", real)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    guard, refused = _guard()
    transfers = FileTransfers(guard, 5)
    try:
        assert await transfers.fetch(f"http://{host}:{port}/moved", 100) == b"bundle"
        with pytest.raises(TransferError) as fetching:
            await transfers.fetch(f"http://{host}:{port}/bundle", 100)
    finally:
        await runner.cleanup()
    assert fetching.value.status == "PermissionDenied"
    assert "own local API" in refused[0]
