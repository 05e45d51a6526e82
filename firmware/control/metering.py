"""The charger's meter as the control loop sees it: polled on its own task, failures counted
by kind, and the loss policy applied after N in a row (DESIGN: energy meters).

A poll that answers clears METER_OFFLINE and hands the reading on (`on_reading`: the session's
persisted count, the over-current check); `on_loss = "stop"` trips the fault after
`offline_after_failures`, `"continue"` flags the energy and charging goes on. Its energy
register is judged first (`energy_plausibility`): a reading that cannot be true is handed on
with the last adopted count instead, so it never reaches a session, MeterValues,
TransactionEvent or a stop, and it is no failed poll (the meter answered).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from pievse.firmware.config import MeterConfig
from pievse.firmware.control.core_boundary import MeterHealth
from pievse.firmware.control.energy_plausibility import EnergyRules, EnergyTrack, judge_energy
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import METER_ERROR_KINDS, EnergyMeter, Measurements, MeterError

log = logging.getLogger(__name__)


class MeterWatch:
    def __init__(
        self,
        meter: EnergyMeter,
        config: MeterConfig,
        supervisor: SafetySupervisor,
        wake: Callable[[], None],
        on_reading: Callable[[Measurements], None],
        energy_rules: EnergyRules,
        monotonic: Callable[[], float],
    ) -> None:
        self._meter = meter
        self._energy_rules = energy_rules
        self._monotonic = monotonic
        self._energy: EnergyTrack | None = None
        self.energy_refused: str | None = None
        """Why the last reading's energy was not adopted; None once one is."""
        self._config = config
        self._supervisor = supervisor
        self._wake = wake
        self._on_reading = on_reading
        self.measurements: Measurements | None = None
        self.failures = 0
        """Failed polls in a row."""
        self.errors = Counter(dict.fromkeys(METER_ERROR_KINDS, 0))
        self.flagged = False
        """Offline under `on_loss = "continue"`: the energy is reported as flagged."""

    @property
    def online(self) -> bool:
        return self.failures < self._config.offline_after_failures

    @property
    def energy_wh(self) -> float:
        m = self.measurements
        return 0.0 if m is None or m.energy_import_wh is None else m.energy_import_wh

    def expect(self, energy_wh: float, age_s: float) -> None:
        """The count a session persisted `age_s` ago (wall time) judges the first reading
        after a restart, so a glitch there is not what a power-loss stop bills."""
        if self._energy is None:
            self._energy = EnergyTrack(energy_wh, self._monotonic() - max(age_s, 0.0))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._config.poll_interval_s)
            await self.poll_once()

    async def poll_once(self) -> None:
        try:
            measurements = await self._meter.poll()
        except MeterError as exc:
            self._failed(exc.kind, str(exc))
            return
        except Exception as exc:
            log.exception("meter poll raised unexpectedly")
            self._failed("exception", repr(exc))
            return
        if not self.online:
            log.info("meter answers again after %d failed polls", self.failures)
        self.failures = 0
        self.flagged = False
        self._supervisor.clear(Fault.METER_OFFLINE)
        measurements = self._judged(measurements)
        self.measurements = measurements
        self._on_reading(measurements)
        self._wake()  # the outside reads it in the core's snapshot: publish it now

    def _judged(self, m: Measurements) -> Measurements:
        if m.energy_import_wh is None:
            return m
        verdict = judge_energy(
            self._energy, m.energy_import_wh, self._monotonic(), self._energy_rules
        )
        self._energy = verdict.track
        if verdict.rebaselined:
            log.warning("meter energy register taken as a new baseline: %.0f Wh", verdict.energy_wh)
        if verdict.refused is not None:
            self.errors["implausible"] += 1
            if self.energy_refused is None:
                log.warning("meter reading not used: %s", verdict.refused)
        self.energy_refused = verdict.refused
        return replace(m, energy_import_wh=verdict.energy_wh)

    def _failed(self, kind: str, reason: str) -> None:
        self.errors[kind] += 1
        self.failures += 1
        log.warning("meter poll failed (%d in a row): %s", self.failures, reason)
        if self.online:
            return
        if self._config.on_loss == "stop":
            self._supervisor.trip(Fault.METER_OFFLINE, f"meter offline: {reason}")
        else:
            self.flagged = True
            self._wake()

    def health(self) -> MeterHealth:
        """Its counts as the core publishes them after a step."""
        return MeterHealth(
            online=self.online,
            consecutive_failures=self.failures,
            errors=tuple(self.errors.items()),
            energy_refused=self.energy_refused,
        )
