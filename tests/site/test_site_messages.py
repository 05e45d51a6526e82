"""The site's messages read through their declared bodies (`site/site_bodies.py`): each kind
comes back as it was sent, a field no body declares is ignored as it always was, and a
hostile message (wrong types, NaN, integers no float holds, deep or long junk) is refused
with a short reason naming its field, and counted, by the link that heard it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pievse.firmware.clock import ManualClock
from pievse.firmware.config import SiteConfig
from pievse.firmware.mqtt.site_link import SiteLink
from pievse.firmware.site.grid_readings import GridReadings
from pievse.firmware.site.site_messages import (
    Claim,
    GridShare,
    Leave,
    SiteCodec,
    SiteMessageError,
)
from pievse.firmware.site.site_share import OwnDemand, SiteShare

AT = 1000.0
CLAIM = Claim(
    "b",
    7,
    AT,
    (0, 2),
    16.0,
    None,
    -3,
    (1.5, None, 0.0),
    None,
    served_since=900.0,
    waiting_since=800.5,
    draw_at=999.0,
    taken_a=6.0,
)
HUGE = "9" * 400
"""An integer JSON reads and no float holds."""


def _claim_body(**fields: Any) -> dict[str, Any]:
    body = json.loads(SiteCodec("garage").encode(CLAIM))
    return {**body, **fields}


def _raw(body: dict[str, Any], **raw_fields: str) -> bytes:
    """`body` as JSON with fields written as given (NaN, 400-digit integers)."""
    text = json.dumps({**body, **{name: "@" + name for name in raw_fields}})
    for name, raw in raw_fields.items():
        text = text.replace(f'"@{name}"', raw)
    return text.encode()


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        (CLAIM, "b"),
        (Claim("b", 0, AT, (1,), 0.0, 1, 100, (None, None, None), {"a": 0.0, "b": 1000.0}), "b"),
        (Leave("b", 2**53, AT), "b"),
        (GridShare("meter", AT, (12.5, -3.0, None), -2500.0), "grid"),
        (GridShare("meter", AT, (None, None, None), None), "grid"),
    ],
)
@pytest.mark.parametrize("secret", ["", "a-secret-of-the-site"])
def test_each_kind_comes_back_as_it_was_sent(
    message: Claim | Leave | GridShare, topic: str, secret: str
) -> None:
    codec = SiteCodec("garage", secret)
    assert codec.decode(codec.encode(message), topic, AT) == message


def test_integers_are_read_as_the_numbers_a_claim_holds() -> None:
    body = _claim_body(at=1000, want_a=16, draw_a=[1, None, 0], view={"b": 16}, seq=7.0)
    claim = SiteCodec("garage").decode(json.dumps(body).encode(), "b", AT)
    assert claim == replace(CLAIM, draw_a=(1.0, None, 0.0), view={"b": 16.0})
    assert isinstance(claim, Claim) and isinstance(claim.at, float)
    assert isinstance(claim.draw_a[0], float) and isinstance(claim.want_a, float)


def test_a_field_no_body_declares_is_ignored_as_before() -> None:
    body = _claim_body(colour="red", future={"x": [1, 2]})
    assert SiteCodec("garage").decode(json.dumps(body).encode(), "b", AT) == CLAIM


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_raw(_claim_body(), at="NaN"), "at: expected a time in wall seconds, got nan"),
        (_raw(_claim_body(), at=HUGE), "at: expected a time in wall seconds, got 9999"),
        (_raw(_claim_body(), at="-1"), "at: expected a time in wall seconds, got -1"),
        (_raw(_claim_body(), want_a="Infinity"), "want_a: expected 0.0..1000.0, got inf"),
        (_raw(_claim_body(), want_a=HUGE), "want_a: expected 0.0..1000.0, got 9999"),
        (_raw(_claim_body(), seq=HUGE), "seq: expected 0..9007199254740992, got 9999"),
        (_raw(_claim_body(), seq="1.5"), "seq: expected an integer, got 1.5"),
        (_raw(_claim_body(), priority="true"), "priority: expected an integer -100..100"),
        (_raw(_claim_body(), priority=HUGE), "priority: expected an integer -100..100"),
        (_raw(_claim_body(), tier="2"), "tier: expected null, 0 or 1, got 2"),
        (_raw(_claim_body(), tier='"0"'), "tier: expected null, 0 or 1, got '0'"),
        (_raw(_claim_body(), phases="[0, 0]"), "phases: expected a list of distinct 0, 1, 2"),
        (_raw(_claim_body(), phases="[true]"), "phases: expected a list of distinct 0, 1, 2"),
        (_raw(_claim_body(), phases="[1.0]"), "phases: expected a list of distinct 0, 1, 2"),
        (_raw(_claim_body(), draw_a="[0, 0]"), "draw_a: expected a list of 3 per-phase"),
        (_raw(_claim_body(), draw_a="[0, NaN, 0]"), "draw_a: expected a list of 3 per-phase"),
        (_raw(_claim_body(), draw_a=f"[0, {HUGE}, 0]"), "draw_a: expected a list of 3 per-phase"),
        (_raw(_claim_body(), view='{"b": NaN}'), "view: expected null or an object of at most"),
        (_raw(_claim_body(), view='{"b": true}'), "view: expected null or an object of at most"),
        (_raw(_claim_body(), view="[16]"), "view: expected null or an object of at most"),
        (_raw(_claim_body(), served_since='"noon"'), "served_since: expected a number"),
        (_raw(_claim_body(), taken_a="-0.5"), "taken_a: expected 0.0..1000.0, got -0.5"),
        (_raw(_claim_body(), box='""'), "box: expected a name of 1 to 64 characters, got ''"),
        (_raw(_claim_body(), box="null"), "box: missing"),
        (_raw(_claim_body(), box="7"), "box: expected a name of 1 to 64 characters, got 7"),
        (_raw(_claim_body(), phases="null"), "phases: missing"),
        (_raw(_claim_body(), want_a="[" * 800 + "]" * 800), "want_a: expected a number, got"),
        (_raw(_claim_body(), draw_a="[" + "0, " * 3000 + "0]"), "draw_a: expected a list of 3"),
        (_raw(_claim_body(), view=json.dumps({str(i): 1 for i in range(1001)})), "view:"),
    ],
)
def test_a_hostile_claim_is_refused_with_a_short_reason_naming_its_field(
    payload: bytes, reason: str
) -> None:
    with pytest.raises(SiteMessageError) as refused:
        SiteCodec("garage").decode(payload, "b", AT)
    assert str(refused.value).startswith(reason)
    assert len(str(refused.value)) < 300


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"current_a": "[1, 2, 1001]"}, "current_a: expected a list of 3 per-phase currents"),
        ({"current_a": f"[1, 2, -{HUGE}]"}, "current_a: expected a list of 3 per-phase"),
        ({"current_a": "null"}, "current_a: missing"),
        ({"export_w": "NaN"}, "export_w: expected -1000000.0..1000000.0, got nan"),
        ({"export_w": '"lots"'}, "export_w: expected a number, got 'lots'"),
        ({"at": "Infinity"}, "at: expected a time in wall seconds, got inf"),
        ({"grid": "1"}, "not a grid reading on the grid topic"),
    ],
)
def test_a_hostile_grid_reading_is_refused_naming_its_field(
    fields: dict[str, str], reason: str
) -> None:
    body = json.loads(SiteCodec("garage").encode(GridShare("m", AT, (1.0, 2.0, 3.0), 10.0)))
    with pytest.raises(SiteMessageError) as refused:
        SiteCodec("garage").decode(_raw(body, **fields), "grid", AT)
    assert str(refused.value).startswith(reason)


def test_a_leave_needs_its_count_and_its_box_named_by_its_topic() -> None:
    body = json.loads(SiteCodec("garage").encode(Leave("b", 3, AT)))
    with pytest.raises(SiteMessageError) as refused:
        SiteCodec("garage").decode(_raw(body, seq="-1"), "b", AT)
    assert str(refused.value) == "seq: expected 0..9007199254740992, got -1"
    with pytest.raises(SiteMessageError) as refused:
        SiteCodec("garage").decode(_raw(body), "c", AT)
    assert str(refused.value) == "box 'b' published on the topic of 'c'"


def test_the_link_counts_each_hostile_message_and_goes_on() -> None:
    """Refused by the codec, counted as ignored, nothing raised out of the MQTT task: an
    `at` of 400 digits was an OverflowError there, where the site has no secret."""
    clock = ManualClock()
    wall = clock.now().timestamp()
    config = SiteConfig(id="garage", main_fuse_a=32.0)
    grid = GridReadings(clock.monotonic, lambda: None)
    demand = OwnDemand((0, 1, 2), 16.0, 0, (0.0, 0.0, 0.0))
    share = SiteShare(config, "a", grid, lambda: demand, (clock.monotonic, lambda: wall))
    link = SiteLink(share, SiteCodec("garage"), "pievse", grid, clock)
    good = _claim_body(at=wall)
    hostile = [
        _raw(good, at=HUGE),
        _raw(good, want_a=HUGE),
        _raw(good, draw_a=f"[{HUGE}, 0, 0]"),
        _raw(good, view=f'{{"a": {HUGE}}}'),
        _raw(good, phases="[" * 900 + "]" * 900),
    ]
    for payload in hostile:
        link.receive("pievse/site/garage/box/b", payload)
    grid_body = {"v": 1, "site": "garage", "grid": True, "box": "m", "at": wall}
    link.receive("pievse/site/garage/grid", _raw(grid_body, current_a=HUGE))
    assert share.ignored == len(hostile) + 1
    link.receive("pievse/site/garage/box/b", _raw(good))
    assert share.ignored == len(hostile) + 1, "a good claim after them is taken"
