"""`/api/status` answers whatever one part of the box cannot describe: that part becomes an
error entry in its place (one raising part used to turn the whole answer into a 500)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from pievse.firmware.app import status_document
from pievse.firmware.mqtt.state import state_payload
from tests.conftest import FAST_CONFIG, running_wallbox


def broken() -> Any:
    raise OverflowError("date value out of range")


async def test_a_part_that_raises_is_an_error_entry_and_the_rest_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        wallbox = box.wallbox
        monkeypatch.setattr(status_document, "meter_part", lambda _state: broken())
        wallbox.charging_mode.describe = broken  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR, logger="pievse.firmware.app.status_document"):
            for _ in range(3):
                status = await box.status()
        assert status["meter"] == {"error": "OverflowError: date value out of range"}
        assert status["site"]["charging_mode"] == {
            "error": "OverflowError: date value out of range"
        }
        assert status["site"]["phases"] is not None, "the site's other fragments answer"
        assert status["connectors"]["1"]["status"] == "Available"
        assert status["pilot"]["state"] == "A" and status["faults"] == []
        logged = [r.getMessage() for r in caplog.records]
        assert logged.count("status part 'meter' could not describe itself") == 1, "once a minute"
        state = state_payload(status)
        assert (state["power_w"], state["energy_wh"], state["mode"]) == (None, None, None)
        assert state["status"] == "Available" and state["pilot"] == "A", "MQTT still publishes"
