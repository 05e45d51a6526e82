"""A status document that cannot be built at all (each part already stands on its own,
tests/app/test_status_parts.py) is a 503 in JSON, never a 500, and the page's stream skips
that push instead of dying."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import BenchClient


def broken(*_args: object) -> dict[str, object]:
    raise ValueError("cannot describe NaN")


async def next_push(bench: BenchClient) -> dict[str, object]:
    async with bench.http.get(f"{bench.base}/api/events") as response:
        async with asyncio.timeout(5):
            async for line in response.content:
                if line.startswith(b"data: "):
                    return json.loads(line[6:])
    raise AssertionError("no push")


async def test_a_document_that_cannot_be_built_is_a_503_in_json(
    bench: BenchClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pievse.firmware.app.status_document.status_document", broken)
    async with bench.http.get(f"{bench.base}/api/status") as response:
        assert response.status == 503
        assert "could not be built" in (await response.json())["error"]
    async with bench.http.get(f"{bench.base}/api/events") as response:
        assert response.status == 200, "the stream opens and waits"
    monkeypatch.undo()
    assert (await next_push(bench))["status"]["connectors"]["1"]["status"] == "Available"
