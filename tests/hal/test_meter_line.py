"""The shared meter line against the real pymodbus server and client: boxes' meters on one
server under unit ids of their own, each read answered by its own box's emulator; a unit a
box does not have and a place a box left answer as a gateway does; a server full of units
opens the next."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pievse.hal.devices.meter import ModbusMeter
from pievse.hal.interfaces import MeterError
from pievse.hal.modbus import ModbusTcpBus
from pievse.hal.register_map import load_register_map, plan_reads
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from pievse.hal.sim.meter_line import UNITS_A_SERVER, LineSeat, MeterLine

SDM630 = load_register_map("sdm630")


class Box:
    """A box's two meters (its own unit ids 1 and 2) on the line, read by the real driver
    over its own client."""

    def __init__(self, line: MeterLine, current_a: float) -> None:
        self.load = SetLoad()
        self.load.set(current_a=current_a)
        self.meter = MeterEmulator(SDM630, self.load, 1, count_every_s=None)
        self.grid = MeterEmulator(SDM630, SetLoad(), 2, count_every_s=None)
        self.seat: LineSeat = line.seat([self.meter, self.grid])
        self.bus: ModbusTcpBus | None = None

    async def driver(self, device_id: int = 1) -> ModbusMeter:
        if self.bus is None:
            host, port = await self.seat.address()
            self.bus = ModbusTcpBus(host, port, timeout_s=2.0)
        return ModbusMeter(_OwnUnits(self.bus, self.seat), SDM630, device_id)


class _OwnUnits:
    """The bus as a fleet box's port uses it: its own unit ids, asked under the line's."""

    def __init__(self, bus: ModbusTcpBus, seat: LineSeat) -> None:
        self._bus, self._seat = bus, seat

    async def read_registers(
        self, function_code: int, address: int, count: int, device_id: int
    ) -> list[int]:
        unit = self._seat.unit_on_line(device_id)
        return await self._bus.read_registers(function_code, address, count, unit)

    async def close(self) -> None:
        await self._bus.close()


@pytest.fixture
async def line() -> AsyncIterator[MeterLine]:
    made = MeterLine()
    yield made
    await made.close()


async def test_each_box_reads_its_own_meter_through_one_server(line: MeterLine) -> None:
    boxes = [Box(line, current_a) for current_a in (6.0, 10.0, 16.0)]
    readings = [await (await box.driver()).poll() for box in boxes]
    assert [m.current_a[0] for m in readings] == pytest.approx([6.0, 10.0, 16.0])
    assert {await box.seat.address() for box in boxes} == {await boxes[0].seat.address()}
    assert line.servers == 1
    units = [unit for box in boxes for unit in box.seat.units.values()]
    assert len(set(units)) == 6, "each meter its own unit id on the line"
    polls = len(plan_reads(SDM630))
    assert [box.meter.reads for box in boxes] == [polls] * 3, "its own emulator answered"
    for box in boxes:
        assert box.bus is not None
        await box.bus.close()


async def test_a_fault_on_one_box_reaches_only_its_own_meter(line: MeterLine) -> None:
    faulty, healthy = Box(line, 10.0), Box(line, 10.0)
    faulty.meter.set_fault("exception")
    with pytest.raises(MeterError) as refused:
        await (await faulty.driver()).poll()
    assert refused.value.kind == "exception"
    assert (await (await healthy.driver()).poll()).current_a[0] == pytest.approx(10.0)
    faulty.meter.set_fault("timeout")
    faulty.bus = ModbusTcpBus(*await faulty.seat.address(), timeout_s=0.3)
    with pytest.raises(MeterError) as silent:
        await (await faulty.driver()).poll()
    assert silent.value.kind == "timeout"
    assert (await (await healthy.driver()).poll()).current_a[0] == pytest.approx(10.0)
    for box in (faulty, healthy):
        assert box.bus is not None
        await box.bus.close()


async def test_a_unit_the_box_lacks_and_a_place_left_answer_as_a_gateway(
    line: MeterLine,
) -> None:
    leaving, staying = Box(line, 6.0), Box(line, 8.0)
    with pytest.raises(MeterError, match="exception reply 11"):
        await (await leaving.driver(device_id=5)).poll()
    left_unit = leaving.seat.unit_on_line(1)
    leaving.seat.leave()
    assert leaving.bus is not None
    with pytest.raises(Exception, match="exception reply 11"):
        await leaving.bus.read_registers(4, 0, 2, left_unit)
    assert (await (await staying.driver()).poll()).current_a[0] == pytest.approx(8.0)
    assert leaving.meter.reads == 0, "nothing reached the meter of a box that left"
    await leaving.bus.close()
    assert staying.bus is not None
    await staying.bus.close()


async def test_a_full_server_opens_the_next(line: MeterLine) -> None:
    per_server = (UNITS_A_SERVER - 1) // 2
    boxes = [Box(line, 6.0) for _ in range(per_server + 1)]
    assert line.servers == 2
    last, first = boxes[-1], boxes[0]
    assert await last.seat.address() != await first.seat.address()
    assert (await (await last.driver()).poll()).current_a[0] == pytest.approx(6.0)
    assert last.bus is not None
    await last.bus.close()


def test_a_box_with_two_meters_under_one_unit_id_is_refused(line: MeterLine) -> None:
    twice = [MeterEmulator(SDM630, SetLoad(), 1, count_every_s=None) for _ in range(2)]
    with pytest.raises(ValueError, match="distinct unit ids"):
        line.seat(twice)
