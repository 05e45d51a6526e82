"""The bring-up checklist run against the board: each step measures through the same
devices the controller uses and hands the value to `judging`.

Outputs (pilot, contactor, lock) are driven through the safety supervisor, the only code
that closes the contactor, while the controller is held (`Seams.hold`): its step still
checks the inputs and keeps the contactor's keep-alive going, but drives nothing itself.
The contactor is closed only with no EV connected and no fault latched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from pievse.firmware.clock import Clock
from pievse.firmware.commissioning import judging as j
from pievse.firmware.commissioning.judging import StepResult
from pievse.firmware.control.duty_cycle import duty_percent
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import (
    Board,
    EnergyMeter,
    Measurements,
    MeterError,
    PilotSample,
    PilotState,
)

log = logging.getLogger(__name__)
PILOT_SETTLE_S = 0.2
"""The peak-hold front end's time constant is ~20 ms; the co-processor samples each period."""
TEST_DUTY_PERCENT = cast(float, duty_percent(16.0))
"""The duty of a 16 A offer (duty_percent answers None only below 6 A)."""
MIRROR_WAIT_S = 1.0
LOCK_WAIT_S = 1.0
METER_GAP_S = 1.0
METER_TIMEOUT_S = 5.0
TIMESYNC_DIR = Path("/run/systemd/timesync")


@dataclass(frozen=True)
class Seams:
    board: Board
    supervisor: SafetySupervisor
    hold: Callable[[bool], Awaitable[None]]
    """Holds the controller's step off the outputs (True) and lets it go again (False);
    returns once no step drives them any more (or again)."""
    clock: Clock
    operate_s: float
    """The contactor's operate and release time (`[control] contactor_release_s`)."""
    on_core: Callable[[Coroutine[Any, Any, list[StepResult]]], Awaitable[list[StepResult]]]
    """Runs the device checks on the safety core's loop and waits for them: the devices'
    buses and locks belong to it, and a read from another thread would interleave with the
    core's own (a Modbus transaction, an ADC conversion)."""
    csms: Callable[[], dict[str, Any] | None]
    """The CSMS link as the status document describes it; None without a CSMS."""
    csms_wait_s: float = 20.0


def ntp_synchronised(directory: Path = TIMESYNC_DIR) -> bool | None:
    """systemd-timesyncd marks a synchronised clock with a file; None where it does not run."""
    if not directory.is_dir():
        return None
    return (directory / "synchronized").exists()


async def _until(condition: Callable[[], bool], within_s: float) -> float | None:
    """Seconds until `condition` held, polled every 10 ms; None when it did not."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within_s:
            return None
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def _timings(*moves: tuple[str, float | None]) -> str:
    """("closed", 0.012), ("opened", None) -> "closed in 12 ms, opened -"."""
    return ", ".join(f"{what} {'-' if t is None else f'in {t * 1000:.0f} ms'}" for what, t in moves)


class BringUp:
    def __init__(self, seams: Seams) -> None:
        self._s = seams
        self._ev_connected = False

    async def run(self) -> list[StepResult]:
        devices = await self._s.on_core(self._device_steps())
        return [
            *devices,
            await self._guarded("CSMS", self._csms),
            await self._guarded("clock", self._clock),
        ]

    async def _device_steps(self) -> list[StepResult]:
        """On the core's loop, where the devices live (see `Seams.on_core`)."""
        s = self._s
        await s.hold(True)
        try:
            outputs = [
                await self._guarded("pilot +12 V", self._pilot_at_rest),
                await self._guarded("pilot PWM levels", self._pilot_pwm),
                await self._guarded("RCD self-test", self._rcd),
                await self._guarded("contactor and mirror", self._contactor),
                await self._guarded("phase contactor", self._phase_contactor),
                await self._guarded("lock", self._lock),
            ]
        finally:
            s.supervisor.open_contactor(s.operate_s)
            s.supervisor.command_pilot(None)
            await s.hold(False)
        return [
            *outputs,
            await self._guarded("meter", self._meter),
            await self._guarded("grid meter", self._grid_meter),
            await self._guarded("temperatures", self._temperatures),
        ]

    async def _guarded(self, step: str, check: Callable[[], Awaitable[StepResult]]) -> StepResult:
        """A device that raises fails its step; the run goes on with the next."""
        try:
            return await check()
        except Exception as exc:
            log.exception("commissioning step %s raised", step)
            return j.failed(step, "", f"{type(exc).__name__}: {exc}")

    async def _clock(self) -> StepResult:
        return j.judge_clock(self._s.clock.now(), datetime.now(UTC), ntp_synchronised())

    async def _sample_after(self, command: Callable[[], None]) -> PilotSample:
        command()
        await asyncio.sleep(PILOT_SETTLE_S)
        return self._s.board.pilot.sample()

    def _held_at_f(self) -> str | None:
        """Why the supervisor keeps the pilot at state F whatever it is told, if it does."""
        supervisor = self._s.supervisor
        if not supervisor.holding_pilot_f:
            return None
        faults = ", ".join(sorted(supervisor.faults()))
        return f"the box holds the pilot at state F for a latched fault ({faults})"

    async def _pilot_at_rest(self) -> StepResult:
        sample = await self._sample_after(lambda: self._s.supervisor.command_pilot(None))
        self._ev_connected = sample.state in (PilotState.B, PilotState.C, PilotState.D)
        held = self._held_at_f()
        if held:
            return j.skipped("pilot +12 V", held, j.describe_pilot(sample))
        if sample.state in (PilotState.E, PilotState.F):
            return j.failed(
                "pilot +12 V",
                j.describe_pilot(sample),
                "expected +12 V: the line is shorted or the generator's output stuck low",
            )
        return j.judge_pilot_at_rest(sample)

    async def _pilot_pwm(self) -> StepResult:
        if self._ev_connected:
            return j.skipped("pilot PWM levels", "an EV is connected: a PWM offer invites it")
        held = self._held_at_f()
        if held:
            return j.skipped("pilot PWM levels", held)
        supervisor = self._s.supervisor
        try:
            sample = await self._sample_after(lambda: supervisor.command_pilot(TEST_DUTY_PERCENT))
        finally:
            supervisor.command_pilot(None)
        return j.judge_pilot_pwm(sample, TEST_DUTY_PERCENT)

    async def _rcd(self) -> StepResult:
        rcd = self._s.board.rcd
        tripped_before = rcd.tripped()
        ok = await self._s.supervisor.rcd_self_test()
        measured = f"trip output before the test: {'active' if tripped_before else 'released'}"
        if tripped_before:
            return j.failed(
                "RCD self-test", measured, "the RCD is tripped (or its output wired wrong)"
            )
        if not ok:
            return j.failed(
                "RCD self-test", measured, "did not trip under test, or did not release"
            )
        return j.passed("RCD self-test", measured, "tripped under test and released")

    async def _contactor(self) -> StepResult:
        step = "contactor and mirror"
        s = self._s
        contactor = s.board.contactor
        if contactor.is_closed() and not contactor.commanded_closed:
            return j.failed(
                step, "mirror reads closed, coil off", "welded contacts or mirror wiring"
            )
        if self._ev_connected:
            return j.skipped(step, "an EV is connected: the contactor is tested only without")
        if contactor.closes_only_with_ev:
            return j.skipped(
                step,
                "this board's contactor closes only with an EV in C or D (its "
                "co-processor's rule): checklist item 8 with an EV simulator tests it",
            )
        faults = sorted(s.supervisor.faults())
        if faults:
            return j.skipped(step, f"fault latched ({', '.join(faults)}): nothing closes")
        if not s.supervisor.close_contactor(s.operate_s):
            return j.failed(step, "", "the safety supervisor refused to close")
        closed_s = await _until(contactor.is_closed, MIRROR_WAIT_S + s.operate_s)
        s.supervisor.open_contactor(s.operate_s)
        opened_s = await _until(lambda: not contactor.is_closed(), MIRROR_WAIT_S + s.operate_s)
        shown = _timings(("closed", closed_s), ("opened", opened_s))
        problems = []
        if closed_s is None:
            problems.append("the mirror did not follow the close (coil, supply or mirror)")
        if opened_s is None:
            problems.append("the mirror did not follow the open (welded contacts?)")
        return j.combine(step, [shown], problems, "mirror followed close and open")

    async def _phase_contactor(self) -> StepResult:
        """Switched over and back, with the main contactor open: the mirror must follow."""
        step = "phase contactor"
        s = self._s
        phase = s.board.phase_contactor
        if phase is None:
            return j.skipped(step, "no phase contactor on this board")
        was = phase.commanded_closed
        if phase.is_closed() != was:
            reads = "closed" if phase.is_closed() else "open"
            return j.failed(step, f"mirror reads {reads}", "the mirror disagrees with the coil")
        if self._ev_connected:
            return j.skipped(step, "an EV is connected: phases are switched only without")
        faults = sorted(s.supervisor.faults())
        if faults:
            return j.skipped(step, f"fault latched ({', '.join(faults)})")
        if not s.supervisor.switch_phases(not was, s.operate_s):
            return j.failed(step, "", "the safety supervisor refused (main contactor closed?)")
        over_s = await _until(lambda: phase.is_closed() != was, MIRROR_WAIT_S + s.operate_s)
        s.supervisor.switch_phases(was, s.operate_s)
        back_s = await _until(lambda: phase.is_closed() == was, MIRROR_WAIT_S + s.operate_s)
        moves = ("switched in", "switched out") if not was else ("switched out", "switched in")
        shown = _timings((moves[0], over_s), (moves[1], back_s))
        problems = []
        if over_s is None or back_s is None:
            problems.append("the mirror did not follow (coil, supply, mirror or welded contacts)")
        return j.combine(step, [shown], problems, "mirror followed both ways")

    async def _lock(self) -> StepResult:
        lock = self._s.board.lock
        if lock is None:
            return j.skipped("lock", "no lock on this board (tethered cable)")
        lock.lock()
        locked_s = await _until(lock.is_locked, LOCK_WAIT_S)
        lock.unlock()
        unlocked_s = await _until(lambda: not lock.is_locked(), LOCK_WAIT_S)
        shown = _timings(("locked", locked_s), ("unlocked", unlocked_s))
        problems = []
        if locked_s is None:
            problems.append(f"the feedback did not report locked within {LOCK_WAIT_S:.0f} s")
        if unlocked_s is None:
            problems.append(f"the feedback did not report unlocked within {LOCK_WAIT_S:.0f} s")
        return j.combine("lock", [shown], problems, "feedback followed both ways")

    async def _poll(self, meter: EnergyMeter) -> Measurements:
        async with asyncio.timeout(METER_TIMEOUT_S):
            return await meter.poll()

    async def _meter(self) -> StepResult:
        board = self._s.board
        try:
            first = await self._poll(board.meter)
            await asyncio.sleep(METER_GAP_S)
            second = await self._poll(board.meter)
        except (MeterError, TimeoutError) as exc:
            return j.failed("meter", "", f"no reading: {exc or 'timed out'}")
        ratings = board.ratings
        supply, problems = j.judge_supply(
            "meter",
            second.voltage_v,
            ratings.phases,
            second.frequency_hz,
            ratings.nominal_voltage_v,
            ratings.frequency_hz,
        )
        energy, energy_problems = j.judge_energy(first.energy_import_wh, second.energy_import_wh)
        return j.combine(
            "meter",
            [supply, energy],
            [*problems, *energy_problems],
            "voltages, frequency and a counter that does not go back",
        )

    async def _grid_meter(self) -> StepResult:
        board = self._s.board
        if board.grid_meter is None:
            return j.skipped("grid meter", "no grid meter on this board")
        try:
            reading = await self._poll(board.grid_meter)
        except (MeterError, TimeoutError) as exc:
            bench = board.bench
            if bench is not None and not bench.site_status().get("active"):
                return j.skipped(
                    "grid meter",
                    "the bench's grid meter answers once the bench has a site "
                    "(POST /api/bench/site)",
                )
            return j.failed("grid meter", "", f"no reading: {exc or 'timed out'}")
        ratings = board.ratings
        measured, problems = j.judge_supply(
            "grid meter",
            reading.voltage_v,
            ratings.phases,
            reading.frequency_hz,
            ratings.nominal_voltage_v,
            ratings.frequency_hz,
        )
        return j.combine("grid meter", [measured], problems, "voltages and frequency")

    async def _temperatures(self) -> StepResult:
        board = self._s.board
        sensors = [("enclosure", board.thermometer)]
        if board.outlet_thermometer is not None:
            sensors.append(("outlet", board.outlet_thermometer))
        measured: list[str] = []
        problems: list[str] = []
        for where, sensor in sensors:
            shown, wrong = j.judge_temperature(
                where, sensor.read_c(), sensor.trip_c, sensor.alert_active()
            )
            measured.append(shown)
            problems.extend(wrong)
        return j.combine("temperatures", measured, problems, "below their trip points")

    async def _csms(self) -> StepResult:
        step = "CSMS"
        link = self._s.csms()
        if link is None:
            return j.skipped(step, "no CSMS configured ([ocpp] csms_url)")
        await _until(
            lambda: (self._s.csms() or {}).get("registration") == "accepted", self._s.csms_wait_s
        )
        link = self._s.csms() or link
        measured = (
            f"{link.get('url')}, OCPP {link.get('version')}, security profile "
            f"{link.get('security_profile')}, registration {link.get('registration')}"
        )
        if link.get("registration") != "accepted":
            error = link.get("last_error") or "no answer"
            return j.failed(
                step, measured, f"not registered within {self._s.csms_wait_s:.0f} s: {error}"
            )
        return j.passed(step, measured, "connected and BootNotification accepted")
