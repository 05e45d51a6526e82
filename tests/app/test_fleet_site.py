"""`pievse fleet --site` as a site test needs it: the fleet's boxes share one supply over a
real broker, each claims on the site's topics, the shares they take never add up past the
fuse and settle on the fair share, and every box still charges under the CSMS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections import Counter
from pathlib import Path

import aiomqtt

from tests.rigs.csms import TestCsms
from tests.rigs.mosquitto import Broker
from tests.rigs.process import PIEVSE

BOXES = 4
FUSE_A = 24.0


async def test_a_fleet_on_one_site_shares_its_fuse_and_charges(
    tmp_path: Path, csms: TestCsms, broker: Broker
) -> None:
    command = [*PIEVSE, "fleet", "--boxes", str(BOXES), "--csms", csms.url]
    command += ["--boot-over-s", "1", "--session-s", "60", "--meter-poll-s", "0.5"]
    command += ["--site", "garage", "--mqtt", broker.url, "--main-fuse-a", str(FUSE_A)]
    command += ["--duration-s", "16", "--data-dir", str(tmp_path / "fleet")]
    taken: dict[str, float] = {}
    highest_sum = 0.0
    async with aiomqtt.Client("127.0.0.1", broker.port) as watcher:
        await watcher.subscribe("pievse/site/garage/box/+")
        process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

        async def follow() -> None:
            nonlocal highest_sum
            async for message in watcher.messages:
                body = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                if body.get("taken_a") is not None:
                    taken[body["box"]] = body["taken_a"]
                    highest_sum = max(highest_sum, sum(taken.values()))

        following = asyncio.create_task(follow())
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
    assert process.returncode == 0, err.decode()
    headlines = [line for line in out.decode().splitlines() if line.startswith("fleet ")]
    assert ", 0 failed, 0 faulted" in headlines[-1], out.decode()
    assert sorted(taken) == [f"fleet-{i:04d}" for i in range(1, BOXES + 1)], "each box claims"
    assert highest_sum <= FUSE_A, f"the shares taken added up to {highest_sum} A"
    assert sorted(taken.values()) == [FUSE_A / BOXES] * BOXES, taken
    per_box = Counter((r.charge_point, r.action) for r in csms.received)
    for box in taken:
        assert per_box[(box, "StartTransaction")] == 1, box
