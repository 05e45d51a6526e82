"""The meter driver against a real pymodbus server: TCP on loopback and RTU over a pty line.

Every bundled register map round-trips through the emulator (the server encodes, the driver
decodes, each with the map's types, scales and word order); every fault kind is classified
and counted, and the next good reply recovers.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pievse.hal.devices.meter import ModbusMeter
from pievse.hal.interfaces import MeterError
from pievse.hal.modbus import ModbusRtuBus, ModbusTcpBus
from pievse.hal.register_map import known_maps, load_register_map, plan_reads
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from pievse.hal.sim.serial_wire import SerialWire
from tests.conftest import FAST_CONFIG, running_wallbox
from tests.rigs.paths import BENCH_SIM

ALL_MAPS = known_maps()
SINGLE_PHASE = {"sdm120"}


@dataclass
class Rig:
    emulator: MeterEmulator
    load: SetLoad
    meter: ModbusMeter
    bus: ModbusTcpBus | ModbusRtuBus


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture(params=["tcp", "rtu"])
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RigFactory]:
    """Builds an emulator and a driver for a map over the parametrized transport."""
    made: list[tuple[Rig, SerialWire | None]] = []

    async def make(map_name: str, energy_wh: float = 0.0, device_id: int = 7) -> Rig:
        register_map = load_register_map(map_name)
        energy_file = tmp_path / f"{map_name}-energy.json"
        energy_file.write_text(f'{{"energy_wh": {energy_wh}}}')
        load = SetLoad(phases=1 if map_name in SINGLE_PHASE else 3)
        emulator = MeterEmulator(register_map, load, device_id, energy_file)
        wire = None
        bus: ModbusTcpBus | ModbusRtuBus
        if request.param == "tcp":
            host, port = await emulator.start_tcp("127.0.0.1", 0)
            bus = ModbusTcpBus(host, port, timeout_s=0.3)
        else:
            wire = SerialWire()
            await emulator.start_rtu(wire.b_path, 19200)
            bus = ModbusRtuBus(wire.a_path, 19200, timeout_s=0.3)
        built = Rig(emulator, load, ModbusMeter(bus, register_map, device_id), bus)
        made.append((built, wire))
        return built

    make.transport = request.param  # type: ignore[attr-defined]
    yield make
    for built, wire in made:
        await built.meter.close()
        await built.emulator.stop()
        if wire is not None:
            wire.close()


@pytest.mark.parametrize("map_name", ALL_MAPS)
async def test_every_map_round_trips_types_scales_and_word_order(
    rig: RigFactory, map_name: str
) -> None:
    r = await rig(map_name, energy_wh=123_456.0)
    r.load.set(current_a=12.34, voltage_v=231.5, power_factor=0.95, frequency_hz=50.1)
    m = await r.meter.poll()
    phases = 1 if map_name in SINGLE_PHASE else 3
    assert m.voltage_v[:phases] == pytest.approx((231.5,) * phases, abs=0.1)
    assert m.current_a[:phases] == pytest.approx((12.34,) * phases, abs=0.01)
    total_w = 12.34 * 231.5 * 0.95 * phases
    assert m.power_w == pytest.approx(total_w, abs=0.1)
    assert m.frequency_hz == pytest.approx(50.1, abs=0.01)
    assert m.power_factor == pytest.approx(0.95, abs=0.001)
    # The counter's resolution is the map's scale (10 Wh for ABB, 100 Wh for the EM340).
    assert m.energy_import_wh == pytest.approx(123_456.0, abs=100.0)
    assert r.emulator.reads == len(plan_reads(r.emulator.register_map))


@pytest.mark.parametrize(
    ("map_name", "address", "count", "energy_wh", "words"),
    [
        # Carlo Gavazzi: INT32, low word first; 0.1 kWh per count: 7 000 000 Wh = 70 000.
        ("em340", 0x0034, 2, 7_000_000.0, [0x1170, 0x0001]),
        # ABB: UINT64, high word first; 0.01 kWh per count: 700 000 Wh = 70 000.
        ("abb_b23", 0x5000, 4, 700_000.0, [0, 0, 0x0001, 0x1170]),
        # Eastron: float32 kWh, high word first: 1.0 kWh = 0x3F800000.
        ("sdm630", 0x0048, 2, 1000.0, [0x3F80, 0x0000]),
    ],
)
async def test_registers_on_the_wire_have_the_meter_word_order(
    rig: RigFactory, map_name: str, address: int, count: int, energy_wh: float, words: list[int]
) -> None:
    r = await rig(map_name, energy_wh=energy_wh)
    fc = r.emulator.register_map.rows[0].function_code
    assert await r.bus.read_registers(fc, address, count, 7) == words


async def test_a_poll_takes_the_planned_transactions(rig: RigFactory) -> None:
    r = await rig("abb_b23")
    await r.meter.poll()
    await r.meter.poll()
    assert r.meter.transactions_per_poll == 2
    assert r.emulator.reads == 4


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("timeout", "timeout"),
        ("exception", "exception"),
        ("nan", "implausible"),
        ("negative", "implausible"),
        ("crc", "crc"),
    ],
)
async def test_each_fault_is_classified_and_the_next_good_reply_recovers(
    rig: RigFactory, fault: str, kind: str
) -> None:
    if fault == "crc" and rig.transport == "tcp":  # type: ignore[attr-defined]
        pytest.skip("Modbus TCP frames carry no CRC")
    r = await rig("sdm630", energy_wh=5000.0)
    r.load.set(current_a=10.0)
    before = await r.meter.poll()
    r.emulator.set_fault(fault)
    with pytest.raises(MeterError) as failed:
        await r.meter.poll()
    assert failed.value.kind == kind
    r.emulator.set_fault(None)
    after = await r.meter.poll()
    assert after.energy_import_wh is not None and before.energy_import_wh is not None
    assert after.energy_import_wh >= before.energy_import_wh
    assert math.isfinite(after.current_a[0] or math.nan)


@pytest.mark.parametrize(("fault", "change_wh"), [("backwards", -100.0), ("jump", 1e9)])
async def test_a_count_that_cannot_follow_the_last_is_read_as_it_is(
    rig: RigFactory, fault: str, change_wh: float
) -> None:
    """Judging it needs the ratings and the count adopted: the control loop's
    (`energy_plausibility`); a meter that refused it would refuse every correct count after a
    glitch too (it did: "went backwards" until a restart)."""
    r = await rig("sdm630", energy_wh=5000.0)
    before = await r.meter.poll()
    r.emulator.set_fault(fault)
    odd = await r.meter.poll()
    r.emulator.set_fault(None)
    after = await r.meter.poll()
    assert before.energy_import_wh is not None and odd.energy_import_wh is not None
    assert odd.energy_import_wh - before.energy_import_wh == pytest.approx(change_wh, abs=1.0)
    assert after.energy_import_wh == pytest.approx(before.energy_import_wh, abs=1.0)


async def test_a_wrong_unit_id_gets_no_data(rig: RigFactory) -> None:
    """On RS485 nobody answers; over Modbus TCP the gateway answers exception 0x0B (its
    target device failed to respond)."""
    r = await rig("sdm630", device_id=7)
    other = ModbusMeter(r.bus, r.emulator.register_map, device_id=8)
    with pytest.raises(MeterError) as failed:
        await other.poll()
    expected = {"tcp": "exception", "rtu": "timeout"}[rig.transport]  # type: ignore[attr-defined]
    assert failed.value.kind == expected
    if expected == "exception":
        assert "exception reply 11 (gateway no response)" in str(failed.value)
    assert (await r.meter.poll()).frequency_hz == pytest.approx(50.0)


async def test_no_server_is_a_connection_error() -> None:
    sdm630 = load_register_map("sdm630")
    tcp = ModbusMeter(ModbusTcpBus("127.0.0.1", 1, timeout_s=0.3), sdm630, 1)
    rtu = ModbusMeter(ModbusRtuBus("/dev/nonexistent-rs485", timeout_s=0.3), sdm630, 1)
    for meter in (tcp, rtu):
        with pytest.raises(MeterError) as failed:
            await meter.poll()
        assert failed.value.kind == "connection"
        assert "cannot connect" in str(failed.value) or "nonexistent" in str(failed.value)
        await meter.close()


async def test_the_emulator_refuses_faults_its_map_or_line_cannot_show(rig: RigFactory) -> None:
    r = await rig("abb_b23")
    with pytest.raises(ValueError, match="nan needs float registers"):
        r.emulator.set_fault("nan")
    with pytest.raises(ValueError, match="energy is unsigned"):
        r.emulator.set_fault("negative")
    if rig.transport == "tcp":  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="Modbus TCP has no CRC"):
            r.emulator.set_fault("crc")


def test_bus_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="baudrate must be one of"):
        ModbusRtuBus("/dev/ttyUSB0", baudrate=9601)
    with pytest.raises(ValueError, match="parity must be one of"):
        ModbusRtuBus("/dev/ttyUSB0", parity="X")
    with pytest.raises(ValueError, match="stop_bits must be 1 or 2"):
        ModbusRtuBus("/dev/ttyUSB0", stop_bits=3)
    with pytest.raises(ValueError, match=r"port must be 1\.\.65535"):
        ModbusTcpBus("127.0.0.1", 0)


async def test_the_energy_counter_survives_an_emulator_restart(tmp_path: Path) -> None:
    sdm630 = load_register_map("sdm630")
    energy_file = tmp_path / "energy.json"
    clock = [0.0]
    load = SetLoad(monotonic=lambda: clock[0])
    first = MeterEmulator(sdm630, load, 1, energy_file)
    load.set(current_a=10.0, voltage_v=230.0)
    clock[0] = 3600.0  # one hour at 3 x 10 A x 230 V
    await first.stop()
    second = MeterEmulator(sdm630, SetLoad(), 1, energy_file)
    assert second.values()["Energy.Active.Import.Register"] == pytest.approx(6900.0)


def test_a_corrupt_energy_file_is_refused_not_reset(tmp_path: Path) -> None:
    energy_file = tmp_path / "energy.json"
    energy_file.write_text("{not json")
    with pytest.raises(ValueError, match="not a meter energy file"):
        MeterEmulator(load_register_map("sdm630"), SetLoad(), 1, energy_file)
    assert energy_file.read_text() == "{not json"


async def test_a_board_file_reads_an_external_rtu_meter_end_to_end(tmp_path: Path) -> None:
    """A field board's `modbus.rtu` port: pievse runs against an EM340 on a serial line."""
    wire = SerialWire()
    load = SetLoad()
    load.set(current_a=0.0, voltage_v=229.9, frequency_hz=49.9)
    emulator = MeterEmulator(load_register_map("em340"), load, device_id=3)
    await emulator.start_rtu(wire.b_path, 19200)
    bench_sim = BENCH_SIM
    text = bench_sim.read_text()
    text = text[: text.index("\n[grid_meter]")]  # this line carries the charger's meter only
    board = text.replace(
        text[text.index("meter_bus = {") : text.index("\n", text.index("meter_bus = {"))],
        f'meter_bus = {{ driver = "modbus.rtu", device = "{wire.a_path}", baudrate = 19200 }}',
    ).replace('map = "sdm630"\ndevice_id = 1', 'map = "em340"\ndevice_id = 3')
    assert 'map = "em340"' in board
    (tmp_path / "field.toml").write_text(board)
    try:
        async with running_wallbox(
            tmp_path, FAST_CONFIG, board=str(tmp_path / "field.toml")
        ) as box:
            status = await box.status()
            assert status["meter"]["voltage_v"] == pytest.approx([229.9] * 3)
            assert status["meter"]["frequency_hz"] == pytest.approx(49.9)
            assert status["meter"]["online"] is True
            emulator.set_fault("crc")
            failed = await box.wait_for(lambda s: s["meter"]["errors"]["crc"] >= 3)
            assert failed["connectors"]["1"]["error_code"] == "PowerMeterFailure"
            emulator.set_fault(None)
            await box.wait_for(lambda s: s["connectors"]["1"]["error_code"] == "NoError")
    finally:
        await emulator.stop()
        wire.close()


async def test_a_tcp_meter_that_restarts_is_read_again(tmp_path: Path) -> None:
    sdm630 = load_register_map("sdm630")
    first = MeterEmulator(sdm630, SetLoad(), 1)
    host, port = await first.start_tcp("127.0.0.1", 0)
    meter = ModbusMeter(ModbusTcpBus(host, port, timeout_s=0.3), sdm630, 1)
    await meter.poll()
    await first.stop()
    with pytest.raises(MeterError) as failed:
        await meter.poll()
    assert failed.value.kind in ("connection", "timeout")
    second = MeterEmulator(sdm630, SetLoad(), 1)
    await second.start_tcp(host, port)
    try:
        assert (await meter.poll()).voltage_v[0] == pytest.approx(230.0)
    finally:
        await meter.close()
        await second.stop()
