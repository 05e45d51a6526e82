"""The route table: one handler per action, refused at start-up otherwise, and each `after`
step handed its own request and answer."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.routing import after, on

from pievse.firmware.rpc.routes import DuplicateRoute, Routes


class Resets:
    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []

    @on("Reset")
    def on_reset(self, type: str) -> Any:
        return {"status": f"ok {type}"}

    @after("Reset")
    def after_reset(self, response: Any, type: str) -> None:
        self.done.append((type, response["status"]))


class OtherResets:
    @on("Reset")
    def on_other_reset(self, type: str) -> Any:
        return {"status": "other"}


class Heartbeats:
    @on("Heartbeat")
    def on_heartbeat(self) -> Any:
        return {}

    @after("Heartbeat")
    def after_heartbeat(self) -> None:
        """Declares no `response`: gets none."""


def test_a_second_handler_for_one_action_stops_the_start() -> None:
    with pytest.raises(DuplicateRoute, match="Reset is answered by both Resets and OtherResets"):
        Routes([Resets(), Heartbeats(), OtherResets()])


def test_each_after_step_gets_its_own_request_and_answer() -> None:
    resets = Resets()
    routes = Routes([resets, Heartbeats()])
    assert routes.served == {"Reset", "Heartbeat"}
    first = routes.on("Reset")(type="Hard")
    second = routes.on("Reset")(type="Soft")
    routes.after("Reset", {"type": "Hard"}, first)
    routes.after("Reset", {"type": "Soft"}, second)
    assert resets.done == [("Hard", "ok Hard"), ("Soft", "ok Soft")]
    assert routes.after("Heartbeat", {}, {}) is None
    assert routes.after("DataTransfer", {}, {}) is None
