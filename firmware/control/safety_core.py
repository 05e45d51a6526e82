"""The safety core: the control step's half that drives the hardware, with the board's
devices, the safety supervisor and the meter's polls. It runs on its own thread and loop
(`core_thread`) and knows the outside only by its last word (`core_boundary.CoreInputs`);
what it did it publishes as one immutable `CoreState`.

Each step reads like IEC 61851-1: check the inputs, recover faults, step the phase switch,
arbitrate the limits, then apply `iec61851`'s answer to pilot and contactor. A close needs the
outside's permission to be fresh; every opening is the core's own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from pievse.firmware.clock import Clock
from pievse.firmware.config import Config
from pievse.firmware.control.connector_lock import LockDriver
from pievse.firmware.control.core_boundary import (
    NOTHING_TOLD,
    CoreInputs,
    CoreState,
    CoreView,
    outside_limits,
    stale,
)
from pievse.firmware.control.core_thread import CoreOnLoop, CoreThread
from pievse.firmware.control.derating import thermal_limit_a
from pievse.firmware.control.duty_cycle import duty_percent
from pievse.firmware.control.energy_plausibility import EnergyRules, rated_power_w
from pievse.firmware.control.fault_recovery import FaultRecovery
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.iec61851 import (
    ContactorAction,
    EvseInputs,
    OfferInputs,
    Transition,
    contactor_step,
    pilot_offers,
)
from pievse.firmware.control.input_checks import InputChecks
from pievse.firmware.control.limits import Limit, arbitrate
from pievse.firmware.control.listeners import ListenerGuard
from pievse.firmware.control.metering import MeterWatch
from pievse.firmware.control.phase_switch import PhaseSwitch, PhaseSwitchSettings
from pievse.firmware.control.pilot_duty import PilotDuty
from pievse.firmware.control.safety import SafetySupervisor
from pievse.firmware.control.snapshot_reads import SnapshotReads
from pievse.hal.interfaces import Board, Measurements, PilotSample, PilotState

log = logging.getLogger(__name__)
SETTLE_S = 0.1
"""How long an outside turn waits for the core to step on news (a step takes ~1 ms), so
the listeners after it see the pilot and contactor that go with the session."""


class SafetyCore:
    def __init__(self, board: Board, config: Config, clock: Clock, guard: ListenerGuard) -> None:
        self._board = board
        self._control = config.control
        self._site_max_a = config.limits.site_max_current_a
        self._meter_cfg = config.meter
        self._clock = clock
        self._guard = guard
        self.thread: CoreThread | CoreOnLoop | None = None
        self.after_step: Callable[[], None] = lambda: None
        """Asks the outside for a turn; called on the core's thread after every step."""
        self.polls: list[Callable[[], Coroutine[Any, Any, None]]] = []
        """Other devices' polls that run on the core's loop (a grid meter on the charger
        meter's line: one owner per bus)."""
        self.closers: list[Callable[[], Awaitable[None]]] = []
        """Their closing, on the core's loop when it ends."""
        self.listeners: list[Callable[[], None]] = []
        """Called on the core's thread after every step: short, thread-safe, no I/O beyond
        a datagram (the watchdog's ping is the one)."""
        self._wake_event = asyncio.Event()
        self.go = asyncio.Event()
        self.told = NOTHING_TOLD
        self._ended_seen = 0
        self._unplugs = 0
        self.supervisor = SafetySupervisor(board, self.wake, clock.monotonic)
        self.inputs = InputChecks(board, self.supervisor)
        self.pilot_sample: PilotSample = board.pilot.sample()
        self.transition = Transition.IDLE
        self.lock = LockDriver(board.lock, self.supervisor)
        self.duty = PilotDuty(config.control.duty_hold_s)
        self._recovery = FaultRecovery(
            board, self.supervisor, clock.monotonic, config.control.fault_retry_s
        )
        self._suspended_at: float | None = None
        self.phases = PhaseSwitch(board, self.supervisor, PhaseSwitchSettings.of(config))
        self.meter = MeterWatch(
            board.meter,
            config.meter,
            self.supervisor,
            self.wake,
            self._check_overcurrent,
            EnergyRules(rated_power_w(board.ratings)),
            clock.monotonic,
        )
        self.held = False
        """Commissioning drives the outputs (see `ChargeController.held`)."""
        self.tick_lateness_s: deque[float] = deque(maxlen=100_000)
        offer = Limit("board", board.ratings.max_current_a)
        self._offer = offer
        self._limits: tuple[Limit, ...] = (offer,)
        self._reads = SnapshotReads(clock.monotonic)
        self.state = self._snapshot(clock.monotonic())

    # --- crossing in: thread-safe --------------------------------------------------------

    def wake(self) -> None:
        """Thread-safe: an edge callback on any thread may call it."""
        thread = self.thread
        if thread is None:
            self._wake_event.set()
        else:
            thread.call_soon(self._wake_event.set)

    def tell(self, told: CoreInputs, settle_s: float = 0.0) -> None:
        """The outside's new word; thread-safe. The core steps at once if it says anything
        new, else it only renews the permission. With `settle_s`, waits up to that long for
        the step on the new word (a stop withdraws the offer before the caller goes on)."""
        thread = self.thread
        if thread is None:
            self.told = told
            return
        changed = not told.same_word(self.told)
        settled = threading.Event() if changed and settle_s > 0 else None

        def hand_over() -> None:
            self.told = told
            if settled is not None:
                self.step()
                settled.set()
            elif changed:
                self._wake_event.set()

        if thread.inline:
            hand_over()
            return
        thread.call_soon(hand_over)
        if settled is not None and not settled.wait(settle_s):
            log.warning("the core did not step on the outside's word within %.2f s", settle_s)

    def call(self, action: Callable[[], object]) -> None:
        """Runs `action` on the core's thread (now, when there is none)."""
        if self.thread is None:
            action()
        else:
            self.thread.call_soon(action)

    def unlock(self) -> None:
        """UnlockConnector, on the core's thread (`call`); the step after it publishes
        whether the lock let go."""
        self.lock.unlock()
        self._wake_event.set()

    # --- its life on its thread ----------------------------------------------------------

    async def main(
        self,
        started: concurrent.futures.Future[None],
        first_reading: Callable[[], Awaitable[None]],
    ) -> None:
        self.supervisor.watch_inputs()
        if not await self.supervisor.rcd_self_test():
            self.supervisor.trip(Fault.RCD, "RCD self-test failed at start-up")
        await first_reading()
        self.step()
        started.set_result(None)
        tasks = [asyncio.create_task(self.meter.run(), name="meter")]
        tasks += [asyncio.create_task(poll(), name="poll") for poll in self.polls]
        try:
            await self.go.wait()
            await self._tick_forever()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.shutdown()
            for close in (self._board.meter.close, *self.closers):
                await close()

    def shutdown(self) -> None:
        self.supervisor.open_contactor(self._control.contactor_release_s)
        self.supervisor.command_pilot(None)

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        period = self._control.tick_ms / 1000.0
        next_tick = loop.time() + period
        while True:
            deadline = next_tick
            if self.duty.due is not None:
                due_in = self.duty.due - self._clock.monotonic()
                deadline = min(deadline, loop.time() + max(0.0, due_in))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await self._wake_event.wait()
            self._wake_event.clear()
            now = loop.time()
            if now >= next_tick:
                self.tick_lateness_s.append(now - next_tick)
                next_tick += period
                if now - next_tick > period:  # fell far behind (suspended host): re-phase
                    next_tick = now + period
            self.step()

    def step(self) -> None:
        """One whole core step on the outside's last word: sense, act, publish; a failure
        trips and opens."""
        now = self._clock.monotonic()
        try:
            self.sense(now)
            if self.held:
                self.supervisor.keep_contactor_alive()
            else:
                self.act(now)
        except Exception:
            log.exception("control step failed; contactor opened")
            self.supervisor.trip(Fault.INTERNAL, "control step failed")
        self.show_led()
        try:
            self.publish(now)
        except Exception:  # the core's thread must outlive any part of its own snapshot
            log.exception("publishing the core's state failed; contactor opened")
            self.supervisor.trip(Fault.INTERNAL, "the core's state could not be published")
        self._guard.tell(self.listeners, lambda listener: listener())
        self.after_step()

    def show_led(self) -> None:
        """The colour the outside's last word asks for (it knows the statuses)."""
        led, colour = self._board.led, self.told.led_colour
        if led is None or colour is None:
            return
        try:
            led.show(colour)
        except Exception:  # a status light is no reason to stop the core
            log.exception("the status LED could not show %s", colour)

    # --- the step ------------------------------------------------------------------------

    def sense(self, now: float) -> None:
        sample = self._board.pilot.sample()
        if sample.state == PilotState.A and self.pilot_sample.state != PilotState.A:
            self._unplugs += 1
        self.pilot_sample = sample
        self.inputs.pilot(sample)
        if sample.state == PilotState.A and not self.held:
            self._open_on_unplug()
        self.inputs.temperatures()
        self.inputs.cable(sample)
        self.supervisor.check_weld_after_open()
        self.supervisor.check_close_confirmed()
        self.supervisor.check_phases_confirmed()
        if not self.held:
            self._recovery.recover(sample.state, now)

    def _open_on_unplug(self) -> None:
        """No EV: the table (`contactor_step`) opens at the end of this step anyway; the
        contactor opens before the rest of the step (temperatures, cable, limits, pilot, lock)
        delays it, as a trip in `inputs.pilot` does for E and F."""
        if self._board.contactor.commanded_closed:
            self.supervisor.open_contactor(self._control.contactor_release_s)
            self._note_transition(PilotState.A, Transition.TO_A)

    def act(self, now: float) -> None:
        told = self.told
        if told.sessions_ended != self._ended_seen:
            self._ended_seen = told.sessions_ended
            self.supervisor.open_contactor(self._control.contactor_release_s)
        sample = self.pilot_sample
        self.phases.step(sample.state, self.meter.measurements, now, self.duty.duty is not None)
        limits = [Limit("board", self._board.ratings.max_current_a)]
        if self._board.cable is not None:
            limits.append(Limit("cable", self.inputs.cable_rating_a or 0.0))
        limits.append(Limit("site", self._site_max_a))
        thermal = thermal_limit_a(self.inputs.enclosure_c, self._board.derating)
        if thermal is not None:
            limits.append(Limit("thermal", thermal))
        limits.extend(outside_limits(told, now))
        self._offer, self._limits = arbitrate(limits), tuple(limits)
        self._drive(sample, now, told)
        self.supervisor.keep_contactor_alive()

    def _drive(self, sample: PilotSample, now: float, told: CoreInputs) -> None:
        faulted = bool(self.supervisor.faults())
        target = duty_percent(self._offer.current_a)
        offering = pilot_offers(
            OfferInputs(
                sample.state,
                told.in_session,
                told.finishing,
                told.blocked,
                faulted,
                target,
                self.phases.holding_offer,
            )
        )
        self.supervisor.command_pilot(
            self.duty.aim(target if offering else None, now), state_f=self.phases.pilot_f
        )
        unplugged = sample.state == PilotState.A
        want_lock = told.in_session and not (unplugged and told.unlock_on_unplug)
        locked = self.lock.drive(want_lock, unplugged, now)
        suspended_at = self._suspended_at
        step = contactor_step(
            EvseInputs(
                pilot=sample.state,
                offering=offering,
                pwm_seen=self.duty.duty is not None and sample.pwm_active,
                locked=locked,
                contactor_closed=self._board.contactor.commanded_closed,
                faulted=faulted,
                suspended_for_s=None if suspended_at is None else now - suspended_at,
                suspend_timeout_s=self._control.suspend_timeout_s,
            )
        )
        self._suspended_at = (
            (now if suspended_at is None else suspended_at) if step.suspending else None
        )
        self._note_transition(sample.state, step.transition)
        if step.contactor == ContactorAction.CLOSE and stale(told, now):
            log.warning("not closing: the outside's permission is stale")
        elif step.contactor == ContactorAction.CLOSE:
            self.supervisor.close_contactor(self._control.contactor_release_s)
        elif step.contactor == ContactorAction.OPEN:
            self.supervisor.open_contactor(self._control.contactor_release_s)

    def _note_transition(self, pilot: PilotState, transition: Transition) -> None:
        if transition != self.transition:
            log.debug("pilot %s: %s -> %s", pilot, self.transition, transition)
            self.transition = transition
        if transition == Transition.SUSPEND_TIMEOUT:
            log.warning(
                "EV kept state %s %.0f s after the pilot stopped offering; "
                "opening the contactor under load",
                pilot,
                self._control.suspend_timeout_s,
            )

    def _check_overcurrent(self, m: Measurements) -> None:
        drawn = max((c for c in m.current_a if c is not None), default=0.0)
        allowed = self.duty.allowed_a(self._clock.monotonic(), self._meter_cfg.ev_response_s)
        if (
            self._board.contactor.is_closed()
            and drawn > allowed + self._meter_cfg.overcurrent_tolerance_a
        ):
            self.supervisor.trip(
                Fault.OVERCURRENT, f"EV draws {drawn:.1f} A where {allowed:.1f} A is offered"
            )

    # --- crossing out --------------------------------------------------------------------

    def view(self) -> CoreView:
        """What the outside follows, as sensed this moment (a hand-stepped step's outside
        half runs between sensing and acting, on the same thread)."""
        return CoreView(self.pilot_sample, self.meter.measurements, self._unplugs)

    def publish(self, now: float) -> None:
        self.state = self._snapshot(now)

    def _snapshot(self, now: float) -> CoreState:
        ev_soc = self._board.ev_soc
        contactor = self._board.contactor
        return CoreState(
            pilot=self.pilot_sample,
            duty=self.duty.duty,
            offered_a=self.duty.offered_a,
            offer=self._offer,
            active_limits=self._limits,
            contactor_closed=self._reads.read(
                "contactor's mirror", contactor.is_closed, contactor.commanded_closed
            ),
            ev_allowed_a=self.duty.allowed_a(now, self._meter_cfg.ev_response_s),
            faults=frozenset(self.supervisor.faults()),
            measurements=self.meter.measurements,
            meter_flagged=self.meter.flagged,
            temperatures_c=tuple(self.inputs.temperatures_c.items()),
            cable_rating_a=self.inputs.cable_rating_a,
            outside_stale=stale(self.told, now),
            stepped_at=now,
            unplugs=self._unplugs,
            meter=self.meter.health(),
            connector_locked=self._reads.read("connector lock", self.lock.locked, None),
            ev_soc_percent=None
            if ev_soc is None
            else self._reads.read("EV's SoC", ev_soc.soc_percent, None),
            phases=self.phases.snapshot(),
        )
