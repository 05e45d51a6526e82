"""A part of the status document that fails to describe itself (a bug, a value it cannot
handle) leaves the rest standing: /api/status answers 200 without it and names it, the
page's stream goes on; a document that cannot be built at all is a 503 in JSON, never a
500, and the stream skips that push instead of dying."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from tests.conftest import BenchClient


def broken() -> dict[str, object]:
    raise ValueError("cannot describe NaN")


async def next_push(bench: BenchClient) -> dict[str, object]:
    async with bench.http.get(f"{bench.base}/api/events") as response:
        async with asyncio.timeout(5):
            async for line in response.content:
                if line.startswith(b"data: "):
                    return json.loads(line[6:])
    raise AssertionError("no push")


async def test_a_failing_part_is_left_out_and_named(
    bench: BenchClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await bench.status())["unavailable"] == {}
    monkeypatch.setattr(bench.wallbox.charging_mode, "describe", broken)
    monkeypatch.setattr(bench.wallbox.controller.phases, "describe", broken)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        status = await bench.status()
    assert status["unavailable"] == {
        "charging_mode": "ValueError: cannot describe NaN",
        "phases": "ValueError: cannot describe NaN",
    }
    assert status["site"]["phases"] is None and "mode" not in status["site"]
    assert status["connectors"]["1"]["status"] == "Available"
    assert caplog.text.count("'charging_mode' could not describe itself") == 1, "logged once"
    assert (await next_push(bench))["status"]["unavailable"]["phases"]
    monkeypatch.undo()
    assert (await bench.status())["unavailable"] == {}
    assert "'charging_mode' describes itself again" in caplog.text


async def test_a_document_that_cannot_be_built_is_a_503_in_json(
    bench: BenchClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.wallbox.reservations, "current", broken)
    async with bench.http.get(f"{bench.base}/api/status") as response:
        assert response.status == 503
        assert "could not be built" in (await response.json())["error"]
    async with bench.http.get(f"{bench.base}/api/events") as response:
        assert response.status == 200, "the stream opens and waits"
    monkeypatch.undo()
    assert (await next_push(bench))["status"]["connectors"]["1"]["status"] == "Available"
