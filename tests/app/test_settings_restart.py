"""Settings changed over the API apply by a restart of the real `pievse run` process: the
answer first, then a clean stop and the same command line again (same PID: exec), which
reads the new file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from pievse.firmware.api.settings_file import render
from tests.conftest import FAST_CONFIG
from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE, free_port, run_with_csms


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _settings_after(
    http: aiohttp.ClientSession, base: str, other_than: str | None, timeout: float = 30.0
) -> dict[str, Any]:
    """GET /api/settings once the box answers with a start other than `other_than`, as
    the page waits (refused connections while it restarts are part of the wait)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = await _get(http, f"{base}/api/settings")
            if answer["started_at"] != other_than:
                return answer
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no new start within {timeout} s")
        await asyncio.sleep(0.1)


async def test_a_new_main_fuse_applies_through_a_restart_of_the_same_process(
    tmp_path: Path,
) -> None:
    config = tmp_path / "pievse.toml"
    config.write_text(FAST_CONFIG + "\n[site]\nmain_fuse_a = 25\n")
    port = free_port()
    command = [*PIEVSE, "run", "--board", "bench-sim", "--config", str(config)]
    command += ["--data-dir", str(tmp_path / "data"), "--api", f"127.0.0.1:{port}"]
    process = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            first = await _settings_after(http, base, None)
            status = await _get(http, f"{base}/api/status")
            assert status["site"]["main_fuse"]["main_fuse_a"] == 25.0
            async with http.put(f"{base}/api/settings", json={"site.main_fuse_a": 16}) as answer:
                assert answer.status == 202
                assert await answer.json() == {"restart": True, "started_at": first["started_at"]}
            second = await _settings_after(http, base, first["started_at"])
            assert second["started_at"] > first["started_at"]
            fuse = {e["key"]: e for e in second["keys"]}["site.main_fuse_a"]
            assert fuse["value"] == 16.0
            status = await _get(http, f"{base}/api/status")
            assert status["site"]["main_fuse"]["main_fuse_a"] == 16.0
            assert process.returncode is None, "exec: the same process goes on"
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)
    assert process.returncode == 0
    assert "main_fuse_a = 25" in (tmp_path / "pievse.toml.previous").read_text()


async def test_settings_that_keep_the_box_from_starting_give_way_to_the_previous_file(
    tmp_path: Path,
) -> None:
    """Security profile 2 passes the key's rule but needs an AuthorizationKey and a CSMS
    root certificate at the start: the box would not come back, and the page with it."""
    config = tmp_path / "pievse.toml"
    original = FAST_CONFIG + f'\n[ocpp]\ncsms_url = "ws://127.0.0.1:{free_port()}/ocpp"\n'
    config.write_text(original)
    port = free_port()
    command = [*PIEVSE, "run", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    command += ["--api", f"127.0.0.1:{port}"]
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(*command, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            first = await _settings_after(http, base, None)
            async with http.put(f"{base}/api/settings", json={"security.profile": 2}) as answer:
                assert answer.status == 202
            second = await _settings_after(http, base, first["started_at"], timeout=60)
            profile = {e["key"]: e for e in second["keys"]}["security.profile"]
            assert profile["value"] == -1, "the previous file is in force"
            assert "needs an AuthorizationKey" in second["refused"]["error"]
            assert "refused" not in first
            assert process.returncode is None
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    assert config.read_text() == original
    assert "profile = 2" in (tmp_path / "pievse.toml.refused").read_text()
    assert not (tmp_path / "pievse.toml.previous").exists(), "a second failure cannot loop"
    logged = log.read_text()
    assert "keep the box from starting" in logged and "needs an AuthorizationKey" in logged


async def test_under_systemd_the_restart_in_place_never_says_stopping(tmp_path: Path) -> None:
    """Type=notify: STOPPING=1 makes systemd wait for the main process to exit and kill it
    after TimeoutStopSec; an exec keeps the PID, so the new process would be killed 15 s
    into its run. It says READY=1 again instead, and STOPPING=1 only on a real stop."""
    address = str(tmp_path / "notify.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.setblocking(False)
    config = tmp_path / "pievse.toml"
    config.write_text(FAST_CONFIG)
    port = free_port()
    command = [*PIEVSE, "run", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    command += ["--api", f"127.0.0.1:{port}"]
    env = {**os.environ, "NOTIFY_SOCKET": address}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    messages: list[str] = []

    def heard() -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while True:
                messages.append(receiver.recv(4096).decode())
        return messages

    try:
        async with aiohttp.ClientSession() as http:
            first = await _settings_after(http, base, None)
            async with http.put(f"{base}/api/settings", json={"site.pv_enable_delay_s": 30}):
                pass
            await _settings_after(http, base, first["started_at"])
        ready = [m for m in heard() if m.startswith("READY=1")]
        assert len(ready) == 2 and "STOPPING=1" not in messages, messages
        assert "STATUS=restarting in place (Soft)" in messages
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        assert heard()[-1] == "STOPPING=1"
    finally:
        if process.returncode is None:
            process.kill()
        receiver.close()


def test_a_bad_flag_is_no_settings_change_and_rolls_nothing_back(tmp_path: Path) -> None:
    config = tmp_path / "pievse.toml"
    config.write_text(render({"site": {"main_fuse_a": 20.0}}, "2026-12-07T00:00:00+00:00"))
    (tmp_path / "pievse.toml.previous").write_text("[site]\nmain_fuse_a = 32.0\n")
    command = [*PIEVSE, "run", "--config", str(config), "--csms", "http://not-a-ws-url"]
    command += ["--data-dir", str(tmp_path / "data"), "--api", f"127.0.0.1:{free_port()}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--csms" in done.stderr
    assert "main_fuse_a = 20.0" in config.read_text()
    assert not (tmp_path / "pievse.toml.refused").exists()


async def test_a_session_running_when_settings_change_ends_as_reboot_and_the_box_comes_back(
    tmp_path: Path,
) -> None:
    """The clean stop of SIGTERM, told it is a restart: StopTransaction with reason Reboot,
    then a new BootNotification from the same process."""
    csms = TestCsms()
    await csms.start()
    port = free_port()
    command = run_with_csms(csms.url, tmp_path, port)
    process = await asyncio.create_subprocess_exec(*command, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        await csms.wait_status(1, "Available", timeout=20)
        async with aiohttp.ClientSession() as http:
            for action, body in (("ev", {"state": "C"}), ("tag", {"id_tag": "CARD-1"})):
                async with http.post(f"{base}/api/bench/{action}", json=body) as response:
                    assert response.status == 200
            await csms.wait_status(1, "Charging", timeout=15)
            mark = len(csms.received)
            async with http.put(f"{base}/api/settings", json={"site.main_fuse_a": 16}) as put:
                assert put.status == 202
            stop = await csms.wait_for("StopTransaction", timeout=15, since=mark)
            assert stop["reason"] == "Reboot"
            await csms.wait_for("BootNotification", timeout=30, since=mark)
            status = await _get(http, f"{base}/api/status")
            assert status["site"]["main_fuse"]["main_fuse_a"] == 16.0
            assert process.returncode is None, "the same process"
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 20)
        await csms.stop()
