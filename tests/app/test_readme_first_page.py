"""The README's first page, run as written: its curl sequence against a bench box with the
defaults ends Available, and the run logs the status page's address."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BenchClient, running_wallbox
from tests.rigs.paths import ROOT


def _curl_lines() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(curl -X POST localhost:8080/api/bench/ev.*?)```", text, re.S)
    assert block, "the README's curl sequence"
    return [shlex.split(line) for line in block[1].splitlines() if line.startswith("curl ")]


async def _curl(bench: BenchClient, args: list[str]) -> tuple[int, dict]:
    """curl [-X METHOD] localhost:8080/PATH [-H 'Name: value'] [-d BODY], over aiohttp."""
    method, headers, body, url = "GET", {}, None, ""
    words = iter(args[1:])
    for word in words:
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(words)
        else:
            url = word
    assert url.startswith("localhost:8080/"), url
    path = url.removeprefix("localhost:8080")
    async with bench.http.request(
        method, bench.base + path, data=body, headers=headers
    ) as response:
        return response.status, await response.json()


async def test_the_curl_sequence_charges_faults_and_ends_available(tmp_path: Path) -> None:
    lines = _curl_lines()
    async with running_wallbox(tmp_path, "") as bench:
        statuses = []
        for args in lines:
            code, answer = await _curl(bench, args)
            assert code == 200, (args, answer)
            if "status" in args[-1]:
                statuses.append(answer)
            if "-d" in args and json.loads(args[args.index("-d") + 1]).get("state") == "C":
                await bench.wait_status("1", "Charging", timeout=8)
            if "-d" in args and json.loads(args[args.index("-d") + 1]).get("active") is True:
                tripped = await bench.wait_status("1", "Faulted")
                assert tripped["connectors"]["1"]["error_code"] == "GroundFailure"
            await asyncio.sleep(0.3)
        assert statuses[0]["connectors"]["1"]["status"] == "Charging"
        final = await bench.wait_status("1", "Available", timeout=8)
    assert final["faults"] == [] and final["contactor"] == "open"


async def test_the_run_logs_the_status_pages_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pievse.firmware.app.wallbox")
    async with running_wallbox(tmp_path, "") as bench:
        assert f"status page {bench.base}/ " in caplog.text


def test_the_install_lines_run_where_there_is_no_sudo(tmp_path: Path) -> None:
    """Root on a minimal image has no sudo: the first page's prefix then expands to nothing.
    (The field install, on Raspberry Pi OS, has sudo.)"""
    text = (ROOT / "README.md").read_text().split("\n## Command line", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [line for block in commands for line in block.splitlines()]
    assert not [line for line in lines if line.startswith("sudo ")]
    prefixed = [line for line in lines if "apt-get" in line]
    assert prefixed and all(line.startswith("$(command -v sudo) apt-get ") for line in prefixed)
    bash = "/bin/bash"
    ran = subprocess.run(
        [bash, "-c", "$(command -v sudo) echo ran"],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (ran.returncode, ran.stdout) == (0, "ran\n")
