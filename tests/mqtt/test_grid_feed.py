"""Grid readings over MQTT, the pure half: every payload is a reading or a refusal that
says why (never another exception), and each kind of refusal is logged once and counted."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.config import ConfigError, parse_config
from pievse.firmware.mqtt.grid_feed import (
    MIN_INTERVAL_S,
    GridFeed,
    GridFeedError,
    GridInput,
    parse_grid_reading,
)
from pievse.firmware.mqtt.home_assistant import Topics
from pievse.firmware.site.grid_readings import MQTT_ORIGIN, GridReadings

NOW = 1_800_000_000.0
TOPIC = "pievse/box/set/mains_meter"


def _parse(payload: bytes | str) -> GridInput:
    raw = payload.encode() if isinstance(payload, str) else payload
    return parse_grid_reading(raw, NOW, 11.0)


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat()


def test_smartevse_form_is_whole_deci_amperes_import_positive() -> None:
    assert _parse("123:-45:0") == GridInput((12.3, -4.5, 0.0))
    assert _parse(" 10 : 20 : 30 \n") == GridInput((1.0, 2.0, 3.0))


def test_json_form_is_the_local_apis_body_with_an_optional_time() -> None:
    body = {"current_a": [12.5, None, 3], "export_w": 1500, "time": _iso(NOW - 5)}
    assert _parse(json.dumps(body)) == GridInput((12.5, None, 3.0), 1500.0)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\xff\xfe", "not_text"),
        (b"1" * 300, "too_large"),
        ("", "malformed"),
        ("1:2", "malformed"),
        ("1:2:3:4", "malformed"),
        ("1.5:2:3", "malformed"),
        ("+1:2:3", "malformed"),
        ("a:b:c", "malformed"),
        ("99999:0:0", "out_of_range"),
        ("-10001:0:0", "out_of_range"),
        ("[1, 2, 3]", "malformed"),
        ('{"current_a": [1, 2]}', "malformed"),
        ('{"current_a": [1, 2, "3"]}', "malformed"),
        ('{"current_a": [1, 2, true]}', "malformed"),
        ('{"current_a": [1, 2, [3]]}', "malformed"),
        ('{"current_a": [1, 2, 3], "phase": 1}', "malformed"),
        ('{"current_a": [NaN, 2, 3]}', "malformed"),
        ('{"current_a": [Infinity, 2, 3]}', "malformed"),
        ('{"current_a": [1e400, 2, 3]}', "out_of_range"),
        ('{"current_a": [1000.5, 2, 3]}', "out_of_range"),
        ('{"current_a": [1, 2, 3], "export_w": -1}', "out_of_range"),
        ('{"current_a": [1, 2, 3], "time": "yesterday"}', "malformed"),
        ('{"current_a": [1, 2, 3], "time": "2027-01-15T08:00:00"}', "malformed"),
        ('{"current_a": [1, 2, 3], "time": 5}', "malformed"),
        ("{" * 200 + "}" * 50, "malformed"),
    ],
)
def test_what_is_not_a_reading_is_refused_with_its_kind(payload: bytes | str, kind: str) -> None:
    with pytest.raises(GridFeedError) as refused:
        _parse(payload)
    assert refused.value.kind == kind and str(refused.value)


def test_a_reading_too_old_or_from_too_far_ahead_is_stale() -> None:
    for when in (NOW - 12, NOW + 121):
        body = json.dumps({"current_a": [1, 2, 3], "time": _iso(when)})
        with pytest.raises(GridFeedError, match=r"s ago|ahead") as refused:
            _parse(body)
        assert refused.value.kind == "stale"
    assert _parse(json.dumps({"current_a": [1, 2, 3], "time": _iso(NOW + 60)}))


@given(st.binary(max_size=300) | st.text(max_size=80).map(str.encode))
def test_any_payload_is_a_reading_or_a_refusal(payload: bytes) -> None:
    try:
        reading = parse_grid_reading(payload, NOW, 11.0)
    except GridFeedError as exc:
        assert exc.kind and str(exc)
        return
    for value in reading.current_a:
        assert value is None or (math.isfinite(value) and -1000 <= value <= 1000)


class Clock:
    def __init__(self) -> None:
        self.mono = 100.0

    def monotonic(self) -> float:
        return self.mono


def test_each_kind_of_refusal_is_logged_once_counted_and_the_last_reading_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    grid = GridReadings(clock.monotonic, lambda: None)
    feed = GridFeed(Topics("pievse/box"), grid, lambda: NOW, clock.monotonic, 11.0)
    assert feed.accepts(TOPIC) and not feed.accepts("pievse/box/set/mode")
    feed.receive(TOPIC, b"100:110:120")
    assert grid.latest is not None and grid.latest.current_a == (10.0, 11.0, 12.0)
    assert grid.latest.origin == MQTT_ORIGIN
    with caplog.at_level(logging.WARNING):
        for junk in (b"junk", b"nope", b"1:2"):
            clock.mono += 1
            feed.receive(TOPIC, junk)
        clock.mono += 1
        feed.receive(TOPIC, b"50000:0:0")
        feed.receive(TOPIC, b"10:10:10")  # at once after a refusal: still allowed
        feed.receive(TOPIC, b"20:20:20")  # too soon after the last accepted one
        feed.receive(TOPIC, b"30:30:30")
    assert grid.latest.current_a == (1.0, 1.0, 1.0)
    assert feed.refused == {"malformed": 3, "out_of_range": 1, "too_often": 2}
    assert feed.accepted == 2
    logged = [r.getMessage() for r in caplog.records if "grid reading" in r.getMessage()]
    assert len(logged) == 3, logged
    status = feed.mqtt_status()["grid_readings"]
    assert status["last_refusal"].startswith("too_often") and status["topic"] == TOPIC
    clock.mono += MIN_INTERVAL_S
    feed.receive(TOPIC, b"30:30:30")
    assert grid.latest.current_a == (3.0, 3.0, 3.0)


def test_readings_on_the_boxs_topic_are_for_a_box_alone_on_its_supply() -> None:
    site = {"id": "home", "main_fuse_a": 32.0, "secret": "s" * 16}
    with pytest.raises(ConfigError, match=r"\[mqtt\] grid_readings"):
        parse_config({"mqtt": {"url": "mqtt://b", "grid_readings": True}, "site": site})
    alone = parse_config({"mqtt": {"url": "mqtt://b", "grid_readings": True}})
    assert alone.mqtt.grid_readings is True
