"""`GET` and `PUT /api/settings` on a running box: the keys offered as the config file
declares them, every value checked with the loader's own message, nothing written on a
refusal, the file written whole (the old one kept) on success and the restart asked for,
secrets never given back, the token needed over loopback too once one exists."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.api.settings_file import (
    ConfigFileSettings,
    SettingRefused,
    SettingsUnsaved,
    checked_change,
    render,
    roll_back,
)
from pievse.firmware.api.settings_keys import OFFERED, bounds, choices, describe_keys
from pievse.firmware.config import (
    Config,
    ConfigError,
    expected,
    load_config,
    parse_config,
    with_overrides,
)
from tests.conftest import FAST_CONFIG, BenchClient, running_wallbox

TOKEN = "settings-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "0123456789abcdef0123456789abcdef"
"""An AuthorizationKey in the whitepaper's hex form (32 hex digits)."""


def _path(box: BenchClient) -> Path:
    path = box.wallbox.settings._path
    assert path is not None
    return path


async def _request(
    box: BenchClient, method: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with box.http.request(
        method, f"{box.base}/api/settings", json=body, headers=headers
    ) as response:
        return response.status, await response.json()


def test_every_offered_key_reads_its_bounds_and_choices_from_the_loaders_rule() -> None:
    for entry in describe_keys(Config()):
        section, name = entry["section"], entry["name"]
        assert entry["description"], f"{entry['key']} has no description in its declaration"

        def accepted(value: Any, section: str = section, name: str = name) -> bool:
            try:
                with_overrides(Config(), {section: {name: value}}, "t")
            except ConfigError:
                return False
            return True

        if entry["type"] == "choice":
            assert all(accepted(choice) for choice in entry["choices"])
            assert not accepted("surely-not-a-choice")
        if "min" in entry:
            assert accepted(entry["min"]) and accepted(entry["max"])
            assert not accepted(entry["min"] - 1) and not accepted(entry["max"] + 1)
    assert {e["key"] for e in describe_keys(Config())} == {f"{s}.{k}" for s, k in OFFERED}


def test_rule_texts_read_as_ranges_and_choices() -> None:
    assert bounds(expected("site", "main_fuse_a")) == (0, 1000)
    assert bounds(expected("security", "profile")) == (-1, 3)
    assert bounds(expected("ocpp", "csms_url")) is None
    assert choices(expected("ocpp", "version")) == ["1.6", "2.0.1", "auto"]
    assert choices(expected("site", "id")) is None


def test_a_key_a_flag_overrides_is_refused_because_the_flag_would_win() -> None:
    with pytest.raises(SettingRefused, match="--csms on the command line") as refused:
        checked_change({"ocpp.csms_url": "ws://x"}, Config(), "f", {"ocpp.csms_url": "--csms"})
    assert refused.value.key == "ocpp.csms_url"


def test_keys_that_need_each_other_are_checked_together_in_any_order() -> None:
    site = {
        "site.id": "home",
        "site.secret": "s" * 16,
        "mqtt.url": "mqtt://broker",
        "site.main_fuse_a": 32,
    }
    assert checked_change(site, Config(), "f", {}).values["site"]["main_fuse_a"] == 32.0
    with pytest.raises(SettingRefused, match=r"\[site\] id: sharing a site needs") as refused:
        checked_change({"site.id": "home"}, Config(), "f", {})
    assert refused.value.key == "site.id"


async def test_get_lists_the_keys_with_values_in_force_and_secrets_only_as_set(
    tmp_path: Path,
) -> None:
    config = FAST_CONFIG + f'\n[security]\nauthorization_key = "{KEY}"\n[site]\nmain_fuse_a = 25\n'
    async with running_wallbox(tmp_path, config) as box:
        code, answer = await _request(box, "GET")
        assert code == 200
        keys = {entry["key"]: entry for entry in answer["keys"]}
        assert keys["site.main_fuse_a"] | {"description": ""} == {
            "key": "site.main_fuse_a",
            "section": "site",
            "name": "main_fuse_a",
            "type": "number",
            "min": 0.0,
            "max": 1000.0,
            "secret": False,
            "set": True,
            "value": 25.0,
            "description": "",
        }
        assert keys["ocpp.version"]["choices"] == ["1.6", "2.0.1", "auto"]
        assert keys["security.profile"]["type"] == "integer"
        secret = keys["security.authorization_key"]
        assert (secret["secret"], secret["set"], secret["value"]) == (True, True, None)
        assert keys["site.secret"]["set"] is False
        assert answer["started_at"] == box.wallbox.settings.started_at
        async with box.http.get(f"{box.base}/api/settings") as response:
            assert KEY not in await response.text()


async def test_a_bad_value_gets_the_loaders_message_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        path = _path(box)
        before = path.read_bytes()
        for body, key in (
            ({"site.main_fuse_a": 5}, "site.main_fuse_a"),
            ({"site.main_fuse_a": 32, "ocpp.version": "3.0"}, "ocpp.version"),
            ({"site.mode": 1}, "site.mode"),
            ({"ocpp.csms_url": "http://csms"}, "ocpp.csms_url"),
            ({"api.token": "x" * 20}, "api.token"),
            ({"firmware.allow_unsigned": True}, "firmware.allow_unsigned"),
            ({"site.id": "home"}, "site.id"),
        ):
            code, answer = await _request(box, "PUT", body)
            assert (code, answer["key"]) == (400, key), answer
            assert answer["error"]
        for body in ([1], "x", {}):
            code, answer = await _request(box, "PUT", body)
            assert code == 400 and answer["key"] is None, answer
        assert path.read_bytes() == before
        assert not path.with_name(path.name + ".previous").exists()
        assert box.resets == []
        # the message is the one the loader gives for the same value in the file
        code, answer = await _request(box, "PUT", {"site.main_fuse_a": 5})
        path.write_text(before.decode() + "\n[site]\nmain_fuse_a = 5\n")
        with pytest.raises(ConfigError) as loader:
            load_config(path)
        assert answer["error"] == str(loader.value)


async def test_a_good_change_is_written_whole_the_old_file_kept_and_the_box_restarts(
    tmp_path: Path,
) -> None:
    config = (
        "# the installer's note\n" + FAST_CONFIG + '\n[site]\nsecret = "a-secret-of-16-chars"\n'
    )
    async with running_wallbox(tmp_path, config) as box:
        path = _path(box)
        before = path.read_text()
        change = {
            "site.main_fuse_a": 40,
            "site.mode": "pv",
            "ocpp.version": "auto",
            "security.authorization_key": KEY,
            "site.secret": None,
        }
        code, answer = await _request(box, "PUT", change)
        assert (code, answer) == (202, {"restart": True, "started_at": answer["started_at"]})
        assert answer["started_at"] == box.wallbox.settings.started_at
        assert box.resets == ["Soft"]
        assert box.wallbox.restart_requested.is_set()
        assert path.with_name(path.name + ".previous").read_text() == before
        written = load_config(path)
        assert written.site.main_fuse_a == 40.0 and written.site.mode == "pv"
        assert written.ocpp.version == "auto"
        assert written.security.authorization_key == KEY
        assert written.site.secret == "a-secret-of-16-chars", "null kept the secret"
        assert written.control == parse_config({"control": _section(before, "control")}).control
        assert path.stat().st_mode & 0o077 == 0
        code, answer = await _request(box, "PUT", {"site.main_fuse_a": 20})
        assert code == 409 and "restarting" in answer["error"]


def _section(text: str, name: str) -> dict[str, Any]:
    return tomllib.loads(text)[name]


async def test_a_new_default_mode_wins_over_the_mode_the_api_set_before(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        assert (await box.put("/api/mode", {"mode": "off", "setpoint_a": 10}))[0] == 200
        code, _ = await _request(box, "PUT", {"site.mode": "pv"})
        assert code == 202
        assert await box.get("/api/mode") == (200, {"mode": "pv", "setpoint_a": 10.0})
    async with running_wallbox(tmp_path, FAST_CONFIG) as again:
        assert (await again.get("/api/mode"))[1]["mode"] == "pv", "kept for the next start"


async def test_a_bad_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        for key, value in (
            ("site.secret", "short-secret"),
            ("mqtt.password", 12345678),
            ("security.authorization_key", "not-a-key-at-all-ä"),
        ):
            code, answer = await _request(box, "PUT", {key: value})
            assert (code, answer["key"]) == (400, key), answer
            assert str(value) not in answer["error"] and "(hidden)" in answer["error"]


async def test_the_token_guards_the_settings_over_loopback_once_one_is_set(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path / "open", FAST_CONFIG) as box:
        assert (await _request(box, "GET"))[0] == 200, "no token exists: loopback reads"
    config = FAST_CONFIG + f'\n[api]\ntoken = "{TOKEN}"\nlan_read = true\n'
    async with running_wallbox(tmp_path / "token", config) as box:
        path = _path(box)
        before = path.read_bytes()
        change = {"site.main_fuse_a": 20}
        assert (await _request(box, "GET"))[0] == 401
        assert (await _request(box, "GET", headers={"Authorization": "Bearer wrong"}))[0] == 401
        assert (await _request(box, "PUT", change))[0] == 401
        async with box.http.get(f"{box.base}/api/settings?token={TOKEN}") as response:
            assert response.status == 401, "never from the query"
        assert (await box.get("/api/status"))[0] == 200, "the rest of loopback stays open"
        foreign = AUTH | {"Origin": "http://evil.example"}
        assert (await _request(box, "PUT", change, foreign))[0] == 403
        rebound = AUTH | {"Host": "evil.example:80"}
        assert (await _request(box, "PUT", change, rebound))[0] == 403
        async with box.http.put(
            f"{box.base}/api/settings", data=b'{"site.main_fuse_a": 20}', headers=AUTH
        ) as response:
            assert response.status == 415, "a form cannot send it"
        assert path.read_bytes() == before and box.resets == []
        assert (await _request(box, "GET", headers=AUTH))[0] == 200
        code, _ = await _request(box, "PUT", change, AUTH)
        assert code == 202 and load_config(path).site.main_fuse_a == 20.0


def test_a_box_without_a_config_file_says_it_cannot_save() -> None:
    async def restart() -> None:
        raise AssertionError("nothing to apply")

    now = datetime.now(UTC)
    settings = ConfigFileSettings(None, Config(), now, {}, restart, lambda: now)
    with pytest.raises(SettingsUnsaved, match="--config"):
        settings.change({"site.main_fuse_a": 20})


def test_only_a_file_as_the_route_wrote_it_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "pievse.toml"
    written = render({"site": {"main_fuse_a": 20.0}}, "2026-12-07T00:00:00+00:00")
    assert load_config(_write(path, written)).site.main_fuse_a == 20.0
    assert roll_back(path, "why") is None, "no previous file: nothing to go back to"
    previous = path.with_name("pievse.toml.previous")
    previous.write_text("[site]\nmain_fuse_a = 32.0\n")
    _write(path, written.replace("20.0", "25.0"))
    assert roll_back(path, "why") is None, "edited by hand since: the editor's file stays"
    assert load_config(path).site.main_fuse_a == 25.0 and previous.exists()
    _write(path, written)
    refused = roll_back(path, "[security] profile = 2: profile 2 needs\nan AuthorizationKey")
    assert refused == tmp_path / "pievse.toml.refused"
    assert refused.read_text() == (
        "# refused at the start: [security] profile = 2: profile 2 needs an AuthorizationKey\n"
        + written
    )
    assert load_config(path).site.main_fuse_a == 32.0 and not previous.exists()
    assert roll_back(path, "why") is None

    async def restart() -> None: ...

    now = datetime.now(UTC)
    settings = ConfigFileSettings(path, Config(), now, {}, restart, lambda: now)
    shown = settings.refused()
    assert shown is not None and shown["error"].endswith("needs an AuthorizationKey")
    os.utime(path, (refused.stat().st_mtime + 1,) * 2)  # a later change or edit
    assert settings.refused() is None


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@given(
    st.dictionaries(
        st.sampled_from([f"{s}.{k}" for s, k in OFFERED] + ["api.token", "x", ""]),
        JSON_VALUES,
        max_size=4,
    )
)
def test_any_body_is_a_checked_change_or_a_refusal_naming_its_key(body: dict[str, Any]) -> None:
    try:
        change = checked_change(body, Config(), "f", {})
    except SettingRefused as exc:
        assert str(exc) and (exc.key is None or exc.key in body or "." in exc.key)
        return
    merged = {s: dict(keys) for s, keys in change.values.items()}
    assert parse_config(merged, "f") is not None, "what passes, the loader reads"


async def test_numbers_no_float_holds_are_a_400_on_every_route(tmp_path: Path) -> None:
    huge = "9" * 5000
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        for method, path, body in (
            ("PUT", "/api/settings", f'{{"site.main_fuse_a": {huge}}}'),
            ("PUT", "/api/settings", f'{{"site.main_fuse_a": {"9" * 400}}}'),
            ("PUT", "/api/mode", f'{{"setpoint_a": {huge}}}'),
            ("PUT", "/api/site/grid", f'{{"current_a": [{huge}, 0, 0]}}'),
            ("PUT", "/api/availability", f'{{"operative": {huge}}}'),
            ("POST", "/api/commission", f'{{"x": {huge}}}'),
            ("POST", "/api/bench/ev", f'{{"state": "A", "max_current_a": {huge}}}'),
        ):
            async with box.http.request(
                method,
                f"{box.base}{path}",
                data=body.encode(),
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 400, (path, await response.text())
        assert (await box.status())["listener_errors"] == 0
