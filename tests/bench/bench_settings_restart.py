"""How long the page waits for a settings change to apply: a `pievse run` process on the
bench-sim board, `PUT /api/settings` (a new main fuse each time), then `GET /api/settings`
polled every 50 ms until it answers with another `started_at` (the clean stop, the exec of
the same command line, the new start). Prints each wait and the new value in force.

Run: python tests/bench/bench_settings_restart.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import FAST_CONFIG  # noqa: E402
from tests.rigs.process import PIEVSE, free_port  # noqa: E402


async def _started_at(http: aiohttp.ClientSession, url: str) -> str | None:
    try:
        async with http.get(url) as response:
            return (await response.json())["started_at"]
    except aiohttp.ClientError:
        return None


async def main(rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-settings-"))
    config = directory / "pievse.toml"
    config.write_text(FAST_CONFIG)
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *PIEVSE,
        "run",
        "--config",
        str(config),
        "--data-dir",
        str(directory / "data"),
        "--api",
        f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/settings"
    waits = []
    try:
        async with aiohttp.ClientSession() as http:
            while (started := await _started_at(http, url)) is None:
                await asyncio.sleep(0.05)
            for fuse in range(20, 20 + rounds):
                begun = time.monotonic()
                async with http.put(url, json={"site.main_fuse_a": fuse}) as response:
                    assert response.status == 202, await response.text()
                while (now := await _started_at(http, url)) in (None, started):
                    await asyncio.sleep(0.05)
                waits.append(time.monotonic() - begun)
                started = now
                async with http.get(f"http://127.0.0.1:{port}/api/status") as response:
                    in_force = (await response.json())["site"]["main_fuse"]["main_fuse_a"]
                print(f"main_fuse_a {fuse}: applied after {waits[-1]:.2f} s (in force: {in_force})")
    finally:
        process.terminate()
        await process.wait()
    print(f"median {statistics.median(waits):.2f} s, max {max(waits):.2f} s over {rounds}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
