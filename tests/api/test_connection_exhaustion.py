"""Half-sent requests (slowloris) must not take the descriptors the CSMS link and the meter
need. A real `pievse run` with a small descriptor limit (256, so a few hundred connections
do what 1 100 did at 1 024) gets far more half-sent requests than its cap: its descriptors
stay bounded, the CSMS link reconnects meanwhile, and once the head timeout closed them the
API answers again. The event streams have their own cap."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from pathlib import Path

import aiohttp

from pievse.firmware.api.connection_gate import DESCRIPTOR_RESERVE, connection_cap
from pievse.firmware.api.status_page import MAX_STREAMS
from tests.conftest import BenchClient
from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE, free_port

FILES_LIMIT = 256
HALF_SENT = 400
HEAD_TIMEOUT_S = 3.0


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def small_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_LIMIT, FILES_LIMIT))


async def half_sent(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


async def api_status(port: int) -> int:
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(f"http://127.0.0.1:{port}/api/status") as response,
    ):
        return response.status


async def test_half_sent_requests_leave_the_csms_link_its_descriptors(
    tmp_path: Path, csms: TestCsms
) -> None:
    config = tmp_path / "pievse.toml"
    config.write_text(
        '[security]\nprofile = 0\n\n[ocpp]\nversion = "1.6"\nreconnect_min_s = 0.2\n'
        f"reconnect_max_s = 1\n\n[api]\nhead_timeout_s = {HEAD_TIMEOUT_S}\n"
    )
    port = free_port()
    command = [*PIEVSE, "run", "--config", str(config), "--csms", csms.url]
    command += ["--data-dir", str(tmp_path / "data"), "--api", f"127.0.0.1:{port}"]
    process = await asyncio.create_subprocess_exec(
        *command, stderr=asyncio.subprocess.DEVNULL, preexec_fn=small_descriptor_limit
    )
    attack: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        await csms.wait_status(1, "Available", timeout=20)
        before = open_files(process.pid)
        attack = [await half_sent(port) for _ in range(HALF_SENT)]
        await asyncio.sleep(0.5)
        during = open_files(process.pid)
        cap = connection_cap(FILES_LIMIT)
        assert during <= before + cap + 4, (before, during, cap)
        assert FILES_LIMIT - during >= DESCRIPTOR_RESERVE // 2

        links = len(csms.connections)
        await csms.drop_connection()
        dropped = time.monotonic()
        while len(csms.connections) == links:
            assert time.monotonic() - dropped < 10, "the CSMS link did not come back"
            await asyncio.sleep(0.05)
        await csms.connected()

        closed_by_box = 0
        for reader, _writer in attack:
            # the box closes each: refused at once (503), or timed out (reset)
            with contextlib.suppress(ConnectionResetError):
                async with asyncio.timeout(HEAD_TIMEOUT_S + 5):
                    await reader.read()
            closed_by_box += 1
        assert closed_by_box == HALF_SENT
        assert await api_status(port) == 200, "the API recovers"
        settled = time.monotonic()
        # No descriptor per attacking connection stays behind (a leak would be hundreds);
        # a few are the box's own, made once (the safety core's loop, a reconnect's).
        while open_files(process.pid) > before + 5:
            assert time.monotonic() - settled < 5, (before, open_files(process.pid))
            await asyncio.sleep(0.1)
    finally:
        for _reader, writer in attack:
            writer.close()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)


async def test_event_streams_beyond_their_cap_get_a_503(bench: BenchClient) -> None:
    streams = []
    try:
        for _ in range(MAX_STREAMS):
            response = await bench.http.get(f"{bench.base}/api/events")
            assert response.status == 200
            streams.append(response)
        async with bench.http.get(f"{bench.base}/api/events") as refused:
            assert refused.status == 503
            assert "event streams" in (await refused.json())["error"]
        assert (await bench.status())["connectors"]["1"]["status"] == "Available"
    finally:
        for response in streams:
            response.close()
    deadline = time.monotonic() + 3  # a stream notices its page left at its next push
    while True:
        async with bench.http.get(f"{bench.base}/api/events") as again:
            if again.status == 200:
                break
        assert time.monotonic() < deadline, "the closed streams were never let go"
        await asyncio.sleep(0.1)


def test_the_cap_leaves_the_reserve_to_the_rest_of_the_box() -> None:
    assert connection_cap(1 << 20) == connection_cap(4096) == connection_cap(1024) == 64
    assert connection_cap(FILES_LIMIT) == (FILES_LIMIT - DESCRIPTOR_RESERVE) // 2 == 32
    assert connection_cap(200) == connection_cap(64) == 4, "never none at all"
