"""The safety core alone: what it does while the outside (sessions, limit sources, OCPP, API)
says nothing. On the rig the outside is stalled by stepping only the core on the injected
clock; on a running wallbox by blocking the outside loop itself."""

from __future__ import annotations

import asyncio
import threading
import time

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.control.core_boundary import (
    OUTSIDE_SILENCE_S,
    CoreInputs,
    OutsideLimit,
    outside_limits,
)
from pievse.firmware.control.limits import Limit
from tests.conftest import BenchClient, start_charging
from tests.rigs.controller_rig import ControllerRig


def _core_alone(rig: ControllerRig, seconds: float) -> None:
    """One core step `seconds` later with no outside turn: the outside is stalled."""
    rig.clock.advance(seconds)
    rig.controller.core_step()


async def test_unplug_opens_the_contactor_before_the_outside_hears_of_it(
    rig: ControllerRig,
) -> None:
    await rig.start_charging()
    rig.plant.set_ev("A", None, None)
    _core_alone(rig, 0.01)
    assert rig.contactor == "open"
    assert rig.controller.session is not None, "the outside has not had its turn yet"
    rig.step()
    assert rig.controller.session is None


async def test_outside_limits_fall_to_their_failsafe_once_the_outside_is_silent(
    rig: ControllerRig,
) -> None:
    rig.limit_a = 20.0
    await rig.start_charging()
    assert rig.controller.offer == Limit("test", 20.0)
    _core_alone(rig, OUTSIDE_SILENCE_S - 0.1)
    assert rig.controller.offer == Limit("test", 20.0), "still the outside's word"
    assert not rig.controller.state.outside_stale
    _core_alone(rig, 0.2)
    assert rig.controller.state.outside_stale
    assert rig.controller.offer == Limit("test", 6.0)
    assert rig.duty == 10.0, "a decrease is on the pilot at once"
    assert rig.contactor == "closed", "the session goes on at the failsafe"

    rig.step(0.1)  # the outside speaks again: its limit, raised after the hold
    assert rig.controller.offer == Limit("test", 20.0)
    assert rig.duty == 10.0
    rig.step(5.0)
    assert rig.duty == 33.33


async def test_a_source_with_its_own_failsafe_falls_to_it(rig: ControllerRig) -> None:
    rig.controller.limit_failsafes["test"] = lambda: 0.0
    await rig.start_charging()
    rig.step()
    _core_alone(rig, OUTSIDE_SILENCE_S + 0.1)
    assert rig.controller.offer == Limit("test", 0.0)
    assert rig.duty is None, "suspended: below 6 A the pilot offers nothing"


async def test_the_contactor_never_closes_on_a_stale_permission(rig: ControllerRig) -> None:
    rig.plant.set_ev("B", None, None)
    await rig.controller.sessions.present_tag("CARD")
    rig.step()
    assert rig.controller.session is not None
    _core_alone(rig, OUTSIDE_SILENCE_S + 0.1)
    rig.plant.set_ev("C", None, None)
    _core_alone(rig, 0.1)
    _core_alone(rig, 0.1)
    assert rig.contactor == "open", "the permission is stale"
    rig.step(0.1)
    assert rig.contactor == "closed", "renewed by the outside's next turn"


limits = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(0, 80)),
        st.floats(0, 80),
    ),
    max_size=5,
)


@given(limits, st.floats(0, 10))
def test_a_silent_outside_never_raises_a_limit(
    told: list[tuple[float | None, float]], after: float
) -> None:
    inputs = CoreInputs(
        told_at=0.0,
        limits=tuple(OutsideLimit(f"s{i}", a, f) for i, (a, f) in enumerate(told)),
    )
    applied = {limit.source: limit.current_a for limit in outside_limits(inputs, after)}
    for i, (value, failsafe) in enumerate(told):
        if after <= OUTSIDE_SILENCE_S:
            assert applied.get(f"s{i}") == value
        else:
            assert applied[f"s{i}"] == (failsafe if value is None else min(value, failsafe))


def _coil_probe(bench: BenchClient) -> tuple[threading.Event, list[float]]:
    opened = threading.Event()
    at: list[float] = []

    def probe(signal: str, value: float) -> None:
        if signal == "contactor_coil" and value == 0.0 and not opened.is_set():
            at.append(time.perf_counter())
            opened.set()

    bench.wallbox.board.bench.probe_outputs(probe)
    return opened, at


async def test_a_blocked_outside_loop_does_not_delay_the_opening_on_unplug(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    controller = bench.wallbox.controller
    opened, at = _coil_probe(bench)
    unplugged = time.perf_counter()
    bench.wallbox.board.bench.set_ev("A", None, None)
    time.sleep(0.5)  # the outside loop (this test's) is blocked
    blocked_until = time.perf_counter()
    assert opened.is_set() and at[0] < blocked_until, "opened while the outside was blocked"
    assert controller.session is not None, "the outside has not heard of it yet"
    print(f"unplug -> coil open with the outside blocked: {(at[0] - unplugged) * 1000:.2f} ms")
    await bench.wait_for(lambda s: s["session"] is None)


async def test_a_blocked_outside_loop_lets_the_limits_fall_to_their_failsafe(
    bench: BenchClient,
) -> None:
    await start_charging(bench)
    core = bench.wallbox.controller.core
    assert core.state.offer.current_a == 32.0
    time.sleep(OUTSIDE_SILENCE_S + 0.5)  # the outside loop is blocked past the silence
    state = core.state
    assert state.outside_stale
    assert state.offer.current_a == 6.0
    assert state.duty == 10.0
    assert state.contactor_closed, "the session goes on at the failsafe"
    back = await bench.wait_for(lambda s: s["pilot"]["offered_a"] == 32.0, timeout=5)
    assert back["contactor"] == "closed"


async def test_an_unplug_the_outside_missed_still_ends_the_session(rig: ControllerRig) -> None:
    """The outside stalled through an unplug and a new plug-in: it must not carry the old
    session over to the next EV."""
    await rig.start_charging()
    rig.plant.set_ev("A", None, None)
    _core_alone(rig, 0.1)
    rig.plant.set_ev("B", None, None)
    _core_alone(rig, 0.1)
    rig.step(0.1)
    assert rig.controller.session is None
    assert rig.status == "Preparing"


async def test_holding_for_commissioning_waits_out_a_step_already_driving_the_pilot(
    bench: BenchClient,
) -> None:
    """Commissioning takes the pilot over: a core step already past its `held` check when
    the hold is asked must not drive the pilot after the hold returned."""
    controller = bench.wallbox.controller
    core = controller.core
    pilot: list[float] = []
    bench.wallbox.board.bench.probe_outputs(
        lambda signal, value: pilot.append(value) if signal == "pilot" else None
    )
    acting, release = threading.Event(), threading.Event()
    act = core.act

    def slow_act(now: float) -> None:
        acting.set()
        release.wait(5)
        act(now)

    core.act = slow_act  # type: ignore[method-assign]
    controller.wake()
    assert await asyncio.to_thread(acting.wait, 5)
    holding = asyncio.create_task(controller.hold(True))
    await asyncio.sleep(0.1)
    assert not holding.done(), "returned while a step still drives the pilot"
    core.act = act  # type: ignore[method-assign]
    release.set()
    await asyncio.wait_for(holding, 5)
    controller.supervisor.command_pilot(50.0)
    await asyncio.sleep(0.3)  # several of the core's ticks
    assert pilot[-1] == 0.5, "the commissioning's PWM stays on the pilot while held"
    await controller.hold(False)
    for _ in range(100):
        if pilot[-1] == 1.0:
            break
        await asyncio.sleep(0.02)
    assert pilot[-1] == 1.0, "released, the core drives the pilot again: +12 V, no EV"


def _led(rig: ControllerRig) -> str:
    lit = [c for c in ("red", "green", "blue") if rig.plant.output(f"led_{c}")]
    return "+".join(lit) or "off"


async def test_an_unplug_opens_before_the_rest_of_the_step(rig: ControllerRig) -> None:
    await rig.start_charging()
    rig.step()
    order: list[str] = []
    rig.plant.probe_outputs(lambda signal, level: None if level else order.append(signal))
    rig.plant.set_ev("A", None, None)
    rig.clock.advance(0.01)
    rig.controller.core.sense(rig.clock.monotonic())
    assert rig.contactor == "open", "sensing the pilot's A opened it"
    assert order == ["contactor_coil"], "nothing else was driven before it"
    rig.step()
    assert "lock_actuator" in order[1:], "the lock lets go after it"


async def test_a_held_core_leaves_the_contactor_to_commissioning(rig: ControllerRig) -> None:
    await rig.controller.hold(True)
    assert rig.controller.supervisor.close_contactor(0.1)
    rig.controller.core.sense(rig.clock.monotonic())
    assert rig.contactor == "closed", "no EV, but commissioning drives the contactor"


async def test_the_core_publishes_the_lock_the_meter_and_the_led(rig: ControllerRig) -> None:
    assert rig.controller.state.connector_locked is False
    assert _led(rig) == "off", "the core has not stepped on a word with a colour yet"
    await rig.start_charging()
    rig.step()
    rig.step()
    state = rig.controller.state
    assert state.connector_locked is True
    assert _led(rig) == "blue", "Charging, shown by the core's step"
    failures = state.meter.consecutive_failures
    rig.plant.set_fault("meter_offline", True)
    await rig.controller.meter.poll_once()
    assert rig.controller.state.meter.consecutive_failures == failures, "until the core steps"
    rig.step()
    assert rig.controller.state.meter.consecutive_failures == failures + 1
    assert sum(count for _, count in rig.controller.state.meter.errors) >= 1
    rig.plant.set_fault("rcd", True)
    rig.step()
    rig.step()
    assert _led(rig) == "red"
    assert rig.controller.state.connector_locked is False, "the session ended: unlocked"
