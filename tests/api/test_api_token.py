"""The local API beyond loopback: everything that changes state needs the token, reading too
unless `lan_read`; a wrong or missing token is a 401 and changes nothing. The token is
generated once, kept, shown once in an owner-only file and never printed or logged.

The server under test listens on loopback (network tests stay there): the check is the
same object the wallbox puts in front of its API when it listens beyond."""

from __future__ import annotations

import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from pievse.firmware.api.access import TOKEN_FILE, ApiAccess, access_for, is_loopback
from pievse.firmware.api.local_api import build_app
from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from tests.conftest import FAST_CONFIG, BenchClient, write_config
from tests.rigs.local_server import serving

TOKEN = "a-token-of-twenty-four-c"


@pytest.fixture
async def guarded(bench: BenchClient) -> AsyncIterator[tuple[str, Wallbox]]:
    """The bench box's own handlers behind the token check, on another loopback port."""
    box = bench.wallbox
    app = build_app(
        box.status, box.board.bench, box.grid, box.charging_mode, ApiAccess(TOKEN, lan_read=False)
    )
    async with serving(app) as base:
        yield base, box


async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    guarded: tuple[str, Wallbox],
) -> None:
    base, box = guarded
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            async with http.put(f"{base}/api/mode", json={"mode": "off"}, headers=headers) as r:
                assert r.status == 401
                assert "token" in (await r.json())["error"]
            async with http.post(f"{base}/api/bench/ev", json={"state": "C"}, headers=headers) as r:
                assert r.status == 401
            async with http.get(f"{base}/api/status", headers=headers) as r:
                assert r.status == 401, "reading beyond loopback needs it too"
        assert box.charging_mode.mode == "fast"
        assert box.board.bench is not None and box.board.bench.ev_status()["state"] == "A"
        good = {"Authorization": f"Bearer {TOKEN}"}
        async with http.put(f"{base}/api/mode", json={"mode": "off"}, headers=good) as r:
            assert r.status == 200
        assert box.charging_mode.mode == "off"
        async with http.get(f"{base}/api/status", headers=good) as r:
            assert r.status == 200


async def test_lan_read_opens_reading_only() -> None:
    access = ApiAccess(TOKEN, lan_read=True)
    app = web.Application(middlewares=[access.middleware()])

    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/x", ok)
    app.router.add_put("/x", ok)
    async with serving(app) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/x") as r:
            assert r.status == 200
        async with http.put(f"{base}/x") as r:
            assert r.status == 401


def test_a_made_token_is_shown_once_in_an_owner_only_file_never_on_stdout_or_in_the_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Under systemd, stdout and stderr are the journal, which more than the owner reads."""
    caplog.set_level(logging.DEBUG)
    config = write_config(tmp_path, FAST_CONFIG)
    options = RunOptions(config=config, data_dir=tmp_path / "data")
    box = Wallbox(options)
    beside = tmp_path / TOKEN_FILE
    try:
        assert access_for("127.0.0.1", box.config.api, box.store).token is None, "loopback"
        first = access_for("192.0.2.7", box.config.api, box.store, [beside])
        assert first.token and len(first.token) >= 24
        assert beside.read_text() == first.token + "\n"
        assert stat.S_IMODE(beside.stat().st_mode) == 0o600
        assert str(beside) in caplog.text, "the log names the file"
        again = access_for("0.0.0.0", box.config.api, box.store, [beside])
        assert again.token == first.token, "kept"
        beside.unlink()
        access_for("0.0.0.0", box.config.api, box.store, [beside])
        assert not beside.exists(), "shown once, when it was made"
        out, err = capfd.readouterr()
        assert first.token not in out + err
        assert first.token not in caplog.text
    finally:
        box.store.close()


def test_a_token_goes_to_the_data_directory_where_the_config_directory_is_not_writable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    box = Wallbox(RunOptions(config=write_config(tmp_path, FAST_CONFIG), data_dir=tmp_path / "d"))
    places = [tmp_path / "missing" / TOKEN_FILE, tmp_path / "d" / TOKEN_FILE]
    try:
        made = access_for("192.0.2.7", box.config.api, box.store, places)
    finally:
        box.store.close()
    assert not places[0].exists() and places[1].read_text().strip() == made.token
    assert stat.S_IMODE(places[1].stat().st_mode) == 0o600
    assert made.token is not None and made.token not in caplog.text


def test_a_configured_token_is_used_and_no_file_is_written(tmp_path: Path) -> None:
    options = RunOptions(
        config=write_config(tmp_path, FAST_CONFIG + f'\n[api]\ntoken = "{TOKEN}"\n'),
        data_dir=tmp_path / "data",
    )
    box = Wallbox(options)
    try:
        access = access_for("192.0.2.7", box.config.api, box.store, [tmp_path / TOKEN_FILE])
        assert access.token == TOKEN
        assert not (tmp_path / TOKEN_FILE).exists()
    finally:
        box.store.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.2", False),
    ],
)
def test_loopback_is_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
