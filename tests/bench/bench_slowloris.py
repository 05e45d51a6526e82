"""Half-sent requests (slowloris) against a `pievse run` process registered with a local
CSMS, at the descriptor limit a plain Debian shell gives (1 024), with the attack the audit
used (1 100 connections, each sending an unfinished request head):

- the box's open descriptors before, at the peak of the attack, and after;
- how many attack connections the box refused at once (503) and how many it closed on the
  head timeout;
- how long the CSMS link took to come back when the CSMS dropped it during the attack;
- how long after the attack ended `GET /api/status` answered again.

Run: python tests/bench/bench_slowloris.py
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.rigs.csms import TestCsms  # noqa: E402
from tests.rigs.process import PIEVSE, free_port  # noqa: E402

FILES_LIMIT = 1024
ATTACK = 1100
HEAD_TIMEOUT_S = 10.0


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_LIMIT, FILES_LIMIT))


async def answers(port: int) -> bool:
    try:
        timeout = aiohttp.ClientTimeout(total=2)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"http://127.0.0.1:{port}/api/status") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4 * ATTACK), max(hard, 4 * ATTACK)))
    csms = TestCsms()
    await csms.start()
    data = Path(tempfile.mkdtemp(prefix="pievse-slowloris-"))
    config = data / "pievse.toml"
    config.write_text(
        '[security]\nprofile = 0\n\n[ocpp]\nversion = "1.6"\nreconnect_min_s = 0.5\n'
        f"reconnect_max_s = 2\n\n[api]\nhead_timeout_s = {HEAD_TIMEOUT_S}\n"
    )
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *PIEVSE, "run", "--config", str(config), "--csms", csms.url,
        "--data-dir", str(data / "data"), "--api", f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.DEVNULL, preexec_fn=limit_files,
    )  # fmt: skip
    writers = []
    try:
        await csms.wait_status(1, "Available", timeout=30)
        before = open_files(process.pid)
        refused = 0
        peak = before
        for _ in range(ATTACK):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            writers.append((reader, writer))
        await asyncio.sleep(1)
        peak = max(peak, open_files(process.pid))
        links = len(csms.connections)
        await csms.drop_connection()
        dropped = time.monotonic()
        while len(csms.connections) == links:
            peak = max(peak, open_files(process.pid))
            if time.monotonic() - dropped > 120:
                raise SystemExit("the CSMS link did not come back within 120 s")
            await asyncio.sleep(0.05)
        reconnect_s = time.monotonic() - dropped
        for reader, _writer in writers:
            if reader.at_eof() or await _closed_soon(reader):
                refused += 1
        for _reader, writer in writers:
            writer.close()
        ended = time.monotonic()
        while not await answers(port):
            await asyncio.sleep(0.05)
        recovered_s = time.monotonic() - ended
        await asyncio.sleep(1)
        after = open_files(process.pid)
        print(f"descriptor limit {FILES_LIMIT}, attack {ATTACK} half-sent requests")
        print(f"box descriptors: before {before}, peak {peak}, after {after}")
        print(f"attack connections closed by the box within a moment: {refused} of {ATTACK}")
        print(f"CSMS link back after a drop during the attack: {reconnect_s:.2f} s")
        print(f"API answering after the attack stopped: {recovered_s:.2f} s")
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        await csms.stop()


async def _closed_soon(reader: asyncio.StreamReader) -> bool:
    try:
        async with asyncio.timeout(0.01):
            return await reader.read() is not None
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


if __name__ == "__main__":
    asyncio.run(main())
