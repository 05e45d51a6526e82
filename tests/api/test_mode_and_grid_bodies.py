"""`PUT /api/mode` and `PUT /api/site/grid` read their bodies through their declarations
(`api/bodies.py`): every body that does not fit, JSON's NaN and infinities, integers no
float holds and junk nested as deep as the parser goes among them, is a 400 naming its
field that changes nothing; what was accepted before still is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BenchClient

HUGE = "9" * 400
"""An integer JSON reads and no float holds (float() of it is an OverflowError)."""


async def _put_text(bench: BenchClient, path: str, text: str) -> tuple[int, dict[str, Any]]:
    """A body as written, so it may hold what `json.dumps` would not write (NaN)."""
    async with bench.http.put(
        f"{bench.base}{path}", data=text.encode(), headers={"Content-Type": "application/json"}
    ) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"mode": null}', "mode: expected one of fast, pv, min_pv, off, got None"),
        ('{"mode": 3}', "mode: expected one of fast, pv, min_pv, off, got 3"),
        ('{"mode": ["pv"]}', "mode: expected one of fast, pv, min_pv, off, got ['pv']"),
        ('{"setpoint_a": true}', "setpoint_a: expected a number, got True"),
        ('{"setpoint_a": "10"}', "setpoint_a: expected a number, got '10'"),
        ('{"setpoint_a": {"a": [1]}}', "setpoint_a: expected a number, got {'a': [1]}"),
        ('{"setpoint_a": 80.5}', "setpoint_a: expected 6..80 A or null, got 80.5"),
        ('{"setpoint_a": NaN}', "setpoint_a: expected 6..80 A or null, got nan"),
        ('{"setpoint_a": -Infinity}', "setpoint_a: expected 6..80 A or null, got -inf"),
        (f'{{"setpoint_a": {HUGE}}}', "setpoint_a: expected 6..80 A or null, got 9999"),
        ('{"mode": "pv", "setpoint": 10}', "unknown field 'setpoint'; allowed: mode, setpoint_a"),
    ],
)
async def test_a_mode_body_that_does_not_fit_is_refused_and_changes_nothing(
    bench: BenchClient, text: str, error: str
) -> None:
    assert (await bench.put("/api/mode", {"mode": "min_pv", "setpoint_a": 12}))[0] == 200
    code, answer = await _put_text(bench, "/api/mode", text)
    assert (code, answer["error"][: len(error)]) == (400, error)
    assert await bench.get("/api/mode") == (200, {"mode": "min_pv", "setpoint_a": 12.0})


async def test_a_mode_field_left_out_keeps_its_value_and_a_null_setpoint_lifts_it(
    bench: BenchClient,
) -> None:
    assert await bench.put("/api/mode", {"mode": "pv", "setpoint_a": 10}) == (
        200,
        {"mode": "pv", "setpoint_a": 10.0},
    )
    assert await bench.put("/api/mode", {}) == (200, {"mode": "pv", "setpoint_a": 10.0})
    assert await bench.put("/api/mode", {"mode": "off"}) == (
        200,
        {"mode": "off", "setpoint_a": 10.0},
    )
    assert await bench.put("/api/mode", {"setpoint_a": 6.5}) == (
        200,
        {"mode": "off", "setpoint_a": 6.5},
    )
    assert await bench.put("/api/mode", {"setpoint_a": None}) == (
        200,
        {"mode": "off", "setpoint_a": None},
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{}", "current_a: expected a list of 3 numbers (or null) in A, got None"),
        ('{"current_a": null}', "current_a: expected a list of 3 numbers (or null) in A"),
        ('{"current_a": {"L1": 1}}', "current_a: expected a list of 3 numbers (or null) in A"),
        ('{"current_a": [1, "2", 3]}', "current_a: expected a list of 3 numbers (or null) in A"),
        ('{"current_a": [1, [2], 3]}', "current_a: expected a list of 3 numbers (or null) in A"),
        ('{"current_a": [1, 2, 3, 4]}', "current_a: expected 3 phases, got 4"),
        ('{"current_a": [NaN, 0, 0]}', "current_a: nan A is out of range -1000..1000"),
        ('{"current_a": [0, Infinity, 0]}', "current_a: inf A is out of range -1000..1000"),
        (f'{{"current_a": [0, 0, {HUGE}]}}', "current_a: inf A is out of range -1000..1000"),
        (
            '{"current_a": [0, 0, 0], "export_w": NaN}',
            "export_w: expected a number from -1000000.0 to 1000000.0, got nan",
        ),
        (
            '{"current_a": [0, 0, 0], "export_w": true}',
            "export_w: expected a number from -1000000.0 to 1000000.0, got True",
        ),
        (
            f'{{"current_a": [0, 0, 0], "export_w": -{HUGE}}}',
            "export_w: expected a number from -1000000.0 to 1000000.0, got -9999",
        ),
        ('{"current_a": [0, 0, 0], "time": 1}', "unknown field 'time'; allowed: current_a, "),
    ],
)
async def test_a_grid_reading_that_does_not_fit_is_refused_and_changes_nothing(
    bench: BenchClient, text: str, error: str
) -> None:
    before = {"current_a": [5, None, 7], "export_w": 10}
    assert (await bench.put("/api/site/grid", before))[0] == 200
    code, answer = await _put_text(bench, "/api/site/grid", text)
    assert (code, answer["error"][: len(error)]) == (400, error)
    site = (await bench.status())["site"]
    assert (site["grid_current_a"], site["grid_export_w"]) == ([5, None, 7], 10)


async def test_a_grid_reading_takes_integers_nulls_and_no_export(bench: BenchClient) -> None:
    assert await bench.put("/api/site/grid", {"current_a": [5, None, 7.5]}) == (200, {"ok": True})
    site = (await bench.status())["site"]
    assert (site["grid_current_a"], site["grid_export_w"]) == ([5.0, None, 7.5], None)
    body = {"current_a": [-3, 0, 1000], "export_w": None}
    assert await bench.put("/api/site/grid", body) == (200, {"ok": True})
    body = {"current_a": [0, 0, 0], "export_w": -1e6}
    assert await bench.put("/api/site/grid", body) == (200, {"ok": True})
    assert (await bench.status())["site"]["grid_export_w"] == -1e6


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/mode", "setpoint_a"),
        ("/api/mode", "mode"),
        ("/api/site/grid", "current_a"),
        ("/api/availability", "operative"),
    ],
)
async def test_junk_nested_deep_or_long_is_a_short_400(
    bench: BenchClient, path: str, field: str
) -> None:
    """Nested as deep as Python's parser goes (about 900 here) and beyond, or 100 000
    items long: a 400 whose error names the field in a few words, not the junk echoed."""
    texts = [f'{{"{field}": {"[" * d}{"]" * d}}}' for d in (10, 500, 800, 850, 900, 2000)]
    texts.append(f'{{"{field}": [{", ".join(["0"] * 100_000)}]}}')
    for text in texts:
        code, answer = await _put_text(bench, path, text)
        assert code == 400 and len(answer["error"]) < 300, (text[:20], answer["error"][:300])
    assert (await bench.status())["listener_errors"] == 0
