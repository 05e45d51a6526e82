"""Energy meter read over a register bus with a register map, one Measurements per poll.

A value that cannot be a reading at all (not finite, a negative count) is a MeterError; one
that cannot follow the last (backwards, faster than the board can deliver) is the control
loop's to judge (`energy_plausibility`), which knows the ratings and which count it adopted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from pievse.hal.interfaces import Measurements, MeterError, PhaseValues
from pievse.hal.ports import RegisterBus, RegisterBusError
from pievse.hal.register_map import PHASED_MEASURANDS, RegisterMap, plan_reads

_PHASE_INDEX = {"L1": 0, "L2": 1, "L3": 2, "L1-N": 0, "L2-N": 1, "L3-N": 2}


class ModbusMeter:
    def __init__(
        self,
        bus: RegisterBus,
        register_map: RegisterMap,
        device_id: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not 1 <= device_id <= 247:
            raise ValueError(f"device_id must be 1..247, got {device_id}")
        self._bus = bus
        self._map = register_map
        self._device_id = device_id
        self._reads = plan_reads(register_map)
        self.measurands = frozenset(register_map.measurands())
        self._now = now

    @property
    def transactions_per_poll(self) -> int:
        return len(self._reads)

    async def close(self) -> None:
        await self._bus.close()

    async def poll(self) -> Measurements:
        words: dict[tuple[int, int], int] = {}
        for block in self._reads:
            try:
                values = await self._bus.read_registers(
                    block.function_code, block.address, block.count, self._device_id
                )
            except RegisterBusError as exc:
                raise MeterError(
                    exc.kind, f"meter read at {block.address:#06x} failed: {exc}"
                ) from exc
            if len(values) != block.count:
                raise MeterError(
                    "implausible",
                    f"meter read at {block.address:#06x}: {len(values)} registers, "
                    f"expected {block.count}",
                )
            for offset, value in enumerate(values):
                words[(block.function_code, block.address + offset)] = value
        return self._decode(words)

    def _decode(self, words: dict[tuple[int, int], int]) -> Measurements:
        per_phase: dict[str, list[float | None]] = {
            m: [None, None, None] for m in PHASED_MEASURANDS
        }
        fields: dict[str, float] = {}
        for row in self._map.rows:
            raw = [words[(row.function_code, row.address + i)] for i in range(row.width)]
            value = row.decode(raw)
            if not math.isfinite(value):
                raise MeterError(
                    "implausible", f"meter register {row.address:#06x} ({row.measurand}) is {value}"
                )
            if row.phase:
                per_phase[row.measurand][_PHASE_INDEX[row.phase]] = value
            else:
                fields[row.measurand] = value
        energy = fields.get("Energy.Active.Import.Register")
        if energy is not None and energy < 0:
            raise MeterError("implausible", f"meter energy register is negative ({energy} Wh)")
        return Measurements(
            timestamp=self._now(),
            voltage_v=_phases(per_phase["Voltage"]),
            current_a=_phases(per_phase["Current.Import"]),
            power_phase_w=_phases(per_phase["Power.Active.Import"]),
            power_factor_phase=_phases(per_phase["Power.Factor"]),
            power_w=fields.get("Power.Active.Import"),
            power_factor=fields.get("Power.Factor"),
            frequency_hz=fields.get("Frequency"),
            energy_import_wh=energy,
        )


def _phases(values: list[float | None]) -> PhaseValues:
    return (values[0], values[1], values[2])
