"""A listener of the control loop that fails (a status reporter, OCPP code, a UI or MQTT
publisher) is logged and counted; the loop, the session and the contactor go on."""

from __future__ import annotations

import asyncio

from pievse.firmware.session.sessions import Session
from tests.conftest import BenchClient, start_charging


class Broken:
    def __call__(self) -> None:
        raise RuntimeError("a step listener with a bug")

    def session_started(self, session: Session) -> None:
        raise RuntimeError("a session listener with a bug")

    def session_stopped(self, session: Session, reason: str) -> None:
        raise RuntimeError("a session listener with a bug")

    def session_resumed(self, session: Session) -> None:
        raise RuntimeError("a session listener with a bug")


class Counting:
    def __init__(self) -> None:
        self.steps = 0
        self.started: list[int] = []
        self.stopped: list[str] = []

    def __call__(self) -> None:
        self.steps += 1

    def session_started(self, session: Session) -> None:
        self.started.append(session.id)

    def session_stopped(self, session: Session, reason: str) -> None:
        self.stopped.append(reason)

    def session_resumed(self, session: Session) -> None:
        self.started.append(session.id)


async def test_a_failing_listener_never_stops_the_loop_or_the_session(bench: BenchClient) -> None:
    controller = bench.wallbox.controller
    broken, counting = Broken(), Counting()
    controller.step_listeners[:0] = [broken]
    controller.step_listeners.append(counting)
    controller.sessions.listeners[:0] = [broken]
    controller.sessions.listeners.append(counting)
    charging = await start_charging(bench)
    assert charging["contactor"] == "closed"
    steps = counting.steps
    await asyncio.sleep(0.2)
    assert counting.steps > steps, "listeners after the broken one are still told"
    assert counting.started == [charging["session"]["id"]]
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["listener_errors"] >= steps
    assert not status["faults"]
    await bench.bench("ev", state="A")
    ended = await bench.wait_status("1", "Available")
    assert ended["contactor"] == "open"
    assert counting.stopped == ["EVDisconnected"]
    assert not bench.wallbox._task.done(), "the control task runs on"
    await bench.bench("fault", fault="rcd", active=True)
    tripped = await bench.wait_for(lambda s: "rcd" in s["faults"])
    assert tripped["contactor"] == "open", "safety reactions are not held up either"
