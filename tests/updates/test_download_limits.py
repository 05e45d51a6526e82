"""A firmware server cannot hold an update forever or fill the box: a download has an overall
deadline (`[firmware] download_deadline_s`) however the server paces its bytes, and a bundle
that says it is larger than the cap (`max_bundle_mb`) is refused before its body comes.
Hostile servers on loopback, the CSMS on the `ocpp` library, the box in this process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from ocpp.v16 import call

from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import FtpFiles

STATUS = "FirmwareStatusNotification"


@contextlib.asynccontextmanager
async def hostile_server() -> AsyncIterator[tuple[str, list[str]]]:
    """GET /trickle sends a byte every half second, forever; GET /huge announces 2 MB and
    then sends nothing. Yields the base URL and what happened on the server's side."""
    seen: list[str] = []

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        try:
            while True:
                await response.write(b"x")
                await asyncio.sleep(0.5)
        finally:
            seen.append("trickle ended")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "2000000"})
        await response.prepare(request)
        try:
            await asyncio.sleep(60)
        finally:
            seen.append("huge ended")
        return response

    app = web.Application()
    app.router.add_get("/trickle", trickle)
    app.router.add_get("/huge", huge)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", seen
    finally:
        await runner.cleanup()


def config(csms: TestCsms, tmp_path: Path, deadline_s: int = 3) -> str:
    """No signature needed (the owner's opt-out, no root): the bundle itself is fetched."""
    firmware = (
        f'\n[firmware]\ninstall_root = "{tmp_path}/opt/pievse"\nallow_unsigned = true\n'
        f"download_deadline_s = {deadline_s}\nmax_bundle_mb = 1\nretries = 0\n"
    )
    return ocpp_config(csms, extra=firmware)


async def test_a_trickling_server_meets_the_deadline(tmp_path: Path, csms: TestCsms) -> None:
    async with hostile_server() as (base, seen), running_wallbox(tmp_path, config(csms, tmp_path)):
        await csms.wait_status(0, "Available")
        mark = len(csms.received)
        started = time.monotonic()
        await csms.call(call.UpdateFirmware(f"{base}/trickle", now_iso()))
        await csms.wait_for(STATUS, lambda p: p["status"] == "DownloadFailed", 20, mark)
        took = time.monotonic() - started
        assert [p["status"] for p in csms.of(STATUS, mark)] == ["Downloading", "DownloadFailed"]
        assert took < 15, f"the 3 s deadline held the job {took:.1f} s"
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        assert seen == ["trickle ended"], "the box hung up"
        assert not (tmp_path / "data" / "firmware" / "update.bundle.part").exists()


async def test_a_bundle_announced_larger_than_the_cap_is_refused_before_its_body(
    tmp_path: Path, csms: TestCsms
) -> None:
    box = running_wallbox(tmp_path, config(csms, tmp_path, deadline_s=60))
    async with hostile_server() as (base, _seen), box:
        await csms.wait_status(0, "Available")
        mark = len(csms.received)
        started = time.monotonic()
        await csms.call(call.UpdateFirmware(f"{base}/huge", now_iso()))
        await csms.wait_for(STATUS, lambda p: p["status"] == "DownloadFailed", 20, mark)
        took = time.monotonic() - started
        assert took < 30, f"{took:.1f} s: refused at the headers, not at the 60 s deadline"


async def test_an_ftp_download_within_the_limits(tmp_path: Path, csms: TestCsms) -> None:
    """FTP takes the same road: the file comes (and then fails as no bundle), and a file
    larger than the cap is refused."""
    ftp = FtpFiles(tmp_path / "ftp")
    (ftp.root / "small.bundle").write_bytes(b"hello")
    (ftp.root / "large.bundle").write_bytes(b"x" * 1_500_000)
    try:
        async with running_wallbox(tmp_path, config(csms, tmp_path, deadline_s=60)):
            await csms.wait_status(0, "Available")
            for name, expected in (
                ("small.bundle", ["Downloading", "Downloaded", "InstallationFailed"]),
                ("large.bundle", ["Downloading", "DownloadFailed"]),
            ):
                mark = len(csms.received)
                await csms.call(call.UpdateFirmware(ftp.url(name), now_iso()))
                last = expected[-1]
                await csms.wait_for(STATUS, lambda p, last=last: p["status"] == last, 20, mark)
                assert [p["status"] for p in csms.of(STATUS, mark)] == expected
    finally:
        ftp.close()
