"""The meter emulator serves its map's whole documented register set as the real meter
does, read by a real pymodbus client: the SDM630's input registers to 0x017D and its
settings, zeros across undocumented gaps inside, illegal address beyond; energy counted on
its own clock and per phase."""

from __future__ import annotations

import asyncio
import json
import math
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from pievse.hal.devices.meter import ModbusMeter
from pievse.hal.modbus import ModbusTcpBus
from pievse.hal.ports import RegisterBusError
from pievse.hal.register_map import SERVED_QUANTITIES, known_maps, load_register_map
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from pievse.hal.sim.meter_emulator_service import control_app
from pievse.hal.sim.meter_quantities import shown_values
from pievse.hal.sim.serial_wire import SerialWire
from tests.rigs.local_server import serving

SDM630 = load_register_map("sdm630")
UNIT = 7


def _floats(registers: list[int]) -> list[float]:
    pairs = zip(registers[::2], registers[1::2], strict=True)
    return [struct.unpack(">f", struct.pack(">HH", hi, lo))[0] for hi, lo in pairs]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sdm630(
    tmp_path: Path, clock: Clock
) -> AsyncIterator[tuple[MeterEmulator, SetLoad, AsyncModbusTcpClient]]:
    load = SetLoad(monotonic=clock)
    emulator = MeterEmulator(SDM630, load, UNIT, tmp_path / "energy.json")
    host, port = await emulator.start_tcp("127.0.0.1", 0)
    client = AsyncModbusTcpClient(host, port=port, timeout=1, retries=0)
    await client.connect()
    yield emulator, load, client
    client.close()
    await emulator.stop()


async def _input(client: AsyncModbusTcpClient, address: int, count: int = 2) -> list[float]:
    reply = await client.read_input_registers(address, count=count, device_id=UNIT)
    assert not reply.isError(), (hex(address), reply)
    return _floats(reply.registers)


async def test_every_documented_input_register_answers_with_its_quantity(sdm630) -> None:  # type: ignore[no-untyped-def]
    _, load, client = sdm630
    load.set(current_a=10.0, voltage_v=230.0, power_factor=0.8)
    for row in (*SDM630.rows, *SDM630.served):
        (value,) = await _input(client, row.address)
        assert math.isfinite(value), hex(row.address)
    assert await _input(client, 0x0012) == [pytest.approx(2300.0)]  # L1 VA
    assert await _input(client, 0x0018) == [pytest.approx(1380.0)]  # L1 VAr at PF 0.8
    assert await _input(client, 0x0024) == [pytest.approx(36.87, abs=0.01)]  # L1 angle
    assert await _input(client, 0x00C8) == [pytest.approx(398.37, abs=0.01)]  # L1-L2
    assert await _input(client, 0x002A) == [pytest.approx(230.0)]
    assert await _input(client, 0x0030) == [pytest.approx(30.0)]
    assert await _input(client, 0x00E0) == [pytest.approx(0.0, abs=1e-3)]  # balanced
    assert await _input(client, 0x00EA) == [0.0]  # THD: not modelled


async def test_a_read_across_undocumented_gaps_reads_them_as_zero(sdm630) -> None:  # type: ignore[no-untyped-def]
    _, load, client = sdm630
    load.set(current_a=16.0)
    block = await _input(client, 0x0000, 0x0050)  # 0x0000..0x004F: 40 parameters
    assert block[0x002C // 2] == 0.0 and block[0x0032 // 2] == 0.0  # gaps
    assert block[0x0034 // 2] == pytest.approx(3 * 16 * 230.0)  # total power
    tail = await _input(client, 0x017E - 80, 80)  # to the last documented register
    assert tail[(0x0110 - (0x017E - 80)) // 2] == 0.0


async def test_more_than_40_parameters_in_one_read_is_refused(sdm630) -> None:  # type: ignore[no-untyped-def]
    _, _, client = sdm630
    reply = await client.read_input_registers(0x0000, count=82, device_id=UNIT)
    assert reply.isError() and reply.exception_code == 3  # illegal data value
    assert len(await _input(client, 0x0000, 80)) == 40


@pytest.mark.parametrize(("address", "count"), [(0x017C, 4), (0x017E, 2), (0x0200, 2)])
async def test_beyond_the_documented_registers_is_an_illegal_address(
    sdm630,
    address: int,
    count: int,  # type: ignore[no-untyped-def]
) -> None:
    _, _, client = sdm630
    reply = await client.read_input_registers(address, count=count, device_id=UNIT)
    assert reply.isError() and reply.exception_code == 2


async def test_the_settings_are_holding_registers(sdm630) -> None:  # type: ignore[no-untyped-def]
    _, _, client = sdm630
    reply = await client.read_holding_registers(0x0000, count=0x001E, device_id=UNIT)
    assert not reply.isError(), reply
    settings = _floats(reply.registers)
    assert settings[0x0002 // 2] == 60.0  # demand period
    assert settings[0x000A // 2] == 3.0  # three phase, four wire
    assert settings[0x0014 // 2] == float(UNIT)  # the Modbus address it answers on
    assert settings[0x001C // 2] == 2.0  # 9600 baud
    assert settings[0x0004 // 2] == 0.0  # reserved
    past = await client.read_holding_registers(0x001E, count=2, device_id=UNIT)
    assert past.isError() and past.exception_code == 2


async def test_energy_counts_on_the_meters_clock_and_per_phase(
    sdm630,
    clock: Clock,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    emulator, load, client = sdm630
    load.set(current_a=10.0, phases=1)
    clock.now += 3600.0  # an hour at 10 A on L1 (2.3 kWh), nobody reading
    await asyncio.sleep(1.5)
    assert emulator.reads == 0
    kept = json.loads((tmp_path / "energy.json").read_text())
    assert kept["energy_wh"] == pytest.approx(2300.0)
    load.set(phases=3)
    clock.now += 3600.0  # then an hour on all three (6.9 kWh)
    imported, exported = await _input(client, 0x0048, 4)
    assert imported == pytest.approx(9.2)
    assert exported == 0.0
    (total,) = await _input(client, 0x0156)
    assert total == pytest.approx(9.2)
    per_phase = await _input(client, 0x015A, 6)
    assert per_phase == [pytest.approx(4.6), pytest.approx(2.3), pytest.approx(2.3)]
    assert await _input(client, 0x0166, 6) == per_phase  # total per phase: no export


async def test_an_unknown_unit_gets_0x0b_over_tcp_and_silence_on_rtu(sdm630) -> None:  # type: ignore[no-untyped-def]
    _, _, tcp = sdm630
    reply = await tcp.read_input_registers(0, count=2, device_id=UNIT + 1)
    assert reply.isError() and reply.exception_code == 0x0B
    wire = SerialWire()
    emulator = MeterEmulator(SDM630, SetLoad(), UNIT)
    await emulator.start_rtu(wire.b_path, 19200)
    rtu = AsyncModbusSerialClient(wire.a_path, baudrate=19200, timeout=0.3, retries=0)
    try:
        await rtu.connect()
        ours = await rtu.read_input_registers(0, count=2, device_id=UNIT)
        assert not ours.isError()
        with pytest.raises(ModbusIOException):  # no reply at all, not an exception reply
            await rtu.read_input_registers(0, count=2, device_id=UNIT + 1)
    finally:
        rtu.close()
        await emulator.stop()
        wire.close()


def test_every_served_quantity_is_computed() -> None:
    values = MeterEmulator(SDM630, SetLoad(), 1).values()
    computed = shown_values(values, [0.0, 0.0, 0.0])
    assert set(SERVED_QUANTITIES) - {"unmodelled"} <= set(computed)


@pytest.mark.parametrize("name", known_maps())
def test_every_map_loads_with_its_rows_inside_its_spans(name: str) -> None:
    register_map = load_register_map(name)
    assert register_map.rows


async def test_get_load_shows_the_energy_counted_without_a_poll(
    sdm630,
    clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    emulator, load, _ = sdm630
    load.set(current_a=10.0)
    async with serving(control_app(emulator, load)) as base, aiohttp.ClientSession() as http:
        clock.now += 1800.0  # half an hour at 3 x 10 A x 230 V
        async with http.get(f"{base}/load") as response:
            state = await response.json()
    assert state["energy_wh"] == pytest.approx(3450.0)
    assert emulator.reads == 0


# --- the other bundled meters --------------------------------------------------------------

OTHER_METERS = ["abb_b23", "em340", "sdm72d", "sdm120"]


@pytest.mark.parametrize("name", OTHER_METERS)
async def test_each_meter_serves_its_documented_set_to_the_driver_and_beyond(
    name: str, tmp_path: Path, clock: Clock
) -> None:
    """The product's driver polls its rows through the real pymodbus server; every other
    documented register reads back (over the same bus, with the map's own type, scale and
    word order) the quantity it names; one past the documented space is illegal."""
    register_map = load_register_map(name)
    phases = 1 if name == "sdm120" else 3
    load = SetLoad(monotonic=clock, phases=phases)
    load.set(current_a=10.0, voltage_v=230.0, power_factor=0.8)
    emulator = MeterEmulator(register_map, load, UNIT, tmp_path / "energy.json")
    host, port = await emulator.start_tcp("127.0.0.1", 0)
    bus = ModbusTcpBus(host, port, timeout_s=1.0)
    meter = ModbusMeter(bus, register_map, UNIT)
    try:
        clock.now += 3600.0  # an hour of counting, nobody reading
        polled = await meter.poll()
        assert polled.energy_import_wh == pytest.approx(phases * 1840.0, rel=0.02)
        assert polled.voltage_v[0] == pytest.approx(230.0, abs=0.1)
        expected = emulator.values()
        for row in register_map.served:
            words = await bus.read_registers(row.function_code, row.address, row.width, UNIT)
            want = 0.0 if row.measurand == "unmodelled" else expected[row.measurand]
            tolerance = max(abs(row.scale), 1e-3 * abs(want))
            assert row.decode(words) == pytest.approx(want, abs=tolerance), (
                f"{name} {row.address:#06x} {row.measurand}"
            )
        assert any(row.measurand == "Power.Apparent/L1" for row in register_map.served)
        if phases == 3:
            l1 = next(r for r in register_map.served if r.measurand == "Voltage/L1-L2")
            words = await bus.read_registers(l1.function_code, l1.address, l1.width, UNIT)
            assert l1.decode(words) == pytest.approx(398.4, abs=0.2)
        code, first, count = register_map.spans[-1]
        with pytest.raises(RegisterBusError) as refused:
            await bus.read_registers(code, first + count, 2, UNIT)
        assert refused.value.kind == "exception"
    finally:
        await meter.close()
        await emulator.stop()
