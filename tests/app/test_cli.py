"""The `pievse` command as a user runs it: real processes, real signals, real SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE, free_port


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--board", "pi-zero"], "unknown board 'pi-zero'"),
        (["run", "--api", "nowhere"], "--api: [api] listen: expected HOST:PORT"),
        (["run", "--csms", "http://csms"], "--csms: [ocpp] csms_url: expected empty, or a ws://"),
        (["run", "--id", ""], "--id: [charge_point] id: expected 1 to 48"),
        (["run", "--config", "/nonexistent.toml"], "config file /nonexistent.toml: not found"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = subprocess.run(
        [*PIEVSE, *args, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_unknown_flag_is_an_argparse_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PIEVSE, "run", "--colour"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --colour" in result.stderr


class Running:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*PIEVSE, "run", "--data-dir", str(data_dir), "--api", f"127.0.0.1:{self.port}"],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.wait_for(lambda s: s["meter"].get("energy_import_wh") is not None)

    def call(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def wait_for(self, predicate, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.call("/api/status")
                if predicate(status):
                    return status
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError(self.process.stderr.read()) from None
            if time.monotonic() > deadline:
                raise AssertionError("condition not met")
            time.sleep(0.05)


def _charge(box: Running) -> int:
    box.call("/api/bench/ev", {"state": "B"})
    box.call("/api/bench/tag", {"id_tag": "CARD"})
    box.call("/api/bench/ev", {"state": "C"})
    status = box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Charging")
    box.wait_for(lambda s: s["session"]["energy_wh"] > 1)
    return status["connectors"]["1"]["transaction_id"]


def test_standalone_run_says_so_and_sigterm_ends_the_session(tmp_path: Path) -> None:
    box = Running(tmp_path)
    transaction = _charge(box)
    box.process.send_signal(signal.SIGTERM)
    assert box.process.wait(timeout=10) == 0
    log = box.process.stderr.read()
    assert "no CSMS configured: running standalone" in log
    row = (
        sqlite3.connect(tmp_path / "pievse.db")
        .execute("SELECT stop_reason FROM sessions WHERE id=?", (transaction,))
        .fetchone()
    )
    assert row == ("Other",), "a plain stop may be for good: not a reboot"


def test_power_loss_mid_session_is_closed_on_the_next_start(tmp_path: Path) -> None:
    box = Running(tmp_path)
    transaction = _charge(box)
    box.process.kill()  # no chance to clean up, as with a power cut
    box.process.wait(timeout=10)
    db = sqlite3.connect(tmp_path / "pievse.db")
    assert db.execute("SELECT stopped_at FROM sessions").fetchone() == (None,)

    again = Running(tmp_path)
    try:
        row = db.execute(
            "SELECT stop_reason, meter_start_wh, meter_stop_wh FROM sessions WHERE id=?",
            (transaction,),
        ).fetchone()
        assert row[0] == "PowerLoss"
        assert row[2] >= row[1]
        status = again.call("/api/status")
        assert status["session"] is None
        assert status["contactor"] == "open"
    finally:
        again.process.terminate()
        again.process.wait(timeout=10)


FULL_CONFIG = """
[charge_point]
id = "FROM-FILE"
vendor = "ACME"
model = "Wall-1"
serial = "SN-7"

[ocpp]
csms_url = "ws://127.0.0.1:9/file"
response_timeout_s = 12.0
reconnect_min_s = 0.3
reconnect_max_s = 7.0

[api]
listen = "127.0.0.1:8181"

[security]
profile = 0
authorization_key = "plaintext-16char"
"""


def _effective(tmp_path: Path, *flags: str) -> dict:
    config = tmp_path / "pievse.toml"
    config.write_text(FULL_CONFIG)
    done = subprocess.run(
        [*PIEVSE, "config", "--config", str(config), *flags],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return tomllib.loads(done.stdout)


@pytest.mark.parametrize(
    ("flag", "value", "section", "key"),
    [
        ("--csms", "ws://127.0.0.1:10/flag", "ocpp", "csms_url"),
        ("--id", "FROM-FLAG", "charge_point", "id"),
        ("--api", "127.0.0.1:9191", "api", "listen"),
    ],
)
def test_a_flag_overrides_its_own_key_and_nothing_else(
    tmp_path: Path, flag: str, value: str, section: str, key: str
) -> None:
    from_file = _effective(tmp_path)
    with_flag = _effective(tmp_path, flag, value)
    assert with_flag[section][key] == value
    with_flag[section][key] = from_file[section][key]
    assert with_flag == from_file, "every other key as the file has it"
    assert from_file["ocpp"]["reconnect_max_s"] == 7.0
    assert from_file["security"]["authorization_key"] == "(set)", "never printed"


async def test_run_with_id_keeps_the_file_s_identity(tmp_path: Path) -> None:
    csms = TestCsms()
    await csms.start()
    config = tmp_path / "pievse.toml"
    config.write_text(FULL_CONFIG.replace('authorization_key = "plaintext-16char"', ""))
    process = await asyncio.create_subprocess_exec(
        *PIEVSE,
        "run",
        "--config",
        str(config),
        "--csms",
        csms.url,
        "--id",
        "FROM-FLAG",
        "--api",
        f"127.0.0.1:{free_port()}",
        "--data-dir",
        str(tmp_path / "data"),
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        boot = await csms.wait_for("BootNotification", timeout=20)
    finally:
        process.terminate()
        await process.wait()
        await csms.stop()
    assert csms.paths[0] == "/ocpp/FROM-FLAG"
    assert boot["charge_point_vendor"] == "ACME"
    assert boot["charge_point_model"] == "Wall-1"
    assert boot["charge_point_serial_number"] == "SN-7"
