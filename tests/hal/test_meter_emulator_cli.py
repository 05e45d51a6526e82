"""`pievse meter-emulator` as a process: Modbus TCP or a pty line, its HTTP control, its errors."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pievse.hal.devices.meter import ModbusMeter
from pievse.hal.interfaces import MeterError
from pievse.hal.modbus import ModbusRtuBus, ModbusTcpBus
from pievse.hal.register_map import load_register_map
from pievse.hal.sim.scenario import Scenario

COMMAND = [sys.executable, "-m", "pievse.firmware.cli.commands", "meter-emulator"]


class Emulator:
    def __init__(self, process: asyncio.subprocess.Process, lines: list[str]) -> None:
        self.process = process
        self.lines = lines

    def endpoint(self, prefix: str) -> str:
        line = next(line for line in self.lines if line.startswith(prefix))
        return line.removeprefix(prefix).split()[0].rstrip(":")


async def _start(*args: str, lines: int) -> Emulator:
    process = await asyncio.create_subprocess_exec(
        *COMMAND, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    read = [
        (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        for _ in range(lines)
    ]
    return Emulator(process, read)


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[Emulator]:
    started = await _start(
        "--map", "em340", "--tcp", "127.0.0.1:0", "--control", "127.0.0.1:0",
        "--current", "5", "--energy-file", str(tmp_path / "energy.json"),
        lines=2,
    )  # fmt: skip
    yield started
    if started.process.returncode is None:
        started.process.kill()
        await started.process.wait()


async def test_tcp_emulator_follows_the_load_set_over_http(
    emulator: Emulator, tmp_path: Path
) -> None:
    host, port = emulator.endpoint("modbus tcp ").rsplit(":", 1)
    control = emulator.endpoint("control ")
    meter = ModbusMeter(ModbusTcpBus(host, int(port)), load_register_map("em340"), 1)
    assert (await meter.poll()).current_a == pytest.approx((5.0, 5.0, 5.0))
    async with aiohttp.ClientSession() as http:
        async with http.put(f"{control}/load", json={"current_a": 16, "phases": 1}) as reply:
            assert reply.status == 200
            assert (await reply.json())["current_a"] == 16.0
        assert (await meter.poll()).current_a == pytest.approx((16.0, 0.0, 0.0))

        async with http.put(f"{control}/load", json={"current_a": "lots"}) as reply:
            assert reply.status == 400
            assert (await reply.json())["error"] == "current_a: expected a number, got 'lots'"
        async with http.put(f"{control}/load", json={"amps": 3}) as reply:
            assert reply.status == 400
            assert "unknown field 'amps'" in (await reply.json())["error"]
        async with http.put(f"{control}/fault", json={"fault": "crc"}) as reply:
            assert reply.status == 400
            assert "Modbus TCP has no CRC" in (await reply.json())["error"]

        async with http.put(f"{control}/fault", json={"fault": "exception"}) as reply:
            assert reply.status == 200
        with pytest.raises(MeterError) as failed:
            await meter.poll()
        assert failed.value.kind == "exception"
        async with http.put(f"{control}/fault", json={"fault": None}) as reply:
            assert reply.status == 200
        assert (await meter.poll()).current_a[0] == pytest.approx(16.0)
    await meter.close()

    emulator.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(emulator.process.wait(), 10) == 0
    saved = json.loads((tmp_path / "energy.json").read_text())
    assert saved["energy_wh"] > 0


async def test_pty_emulator_serves_rtu_on_the_printed_device() -> None:
    started = await _start("--pty", "--baud", "19200", "--map", "sdm120", "--current", "7", lines=1)
    try:
        device = started.endpoint("modbus rtu ")
        bus = ModbusRtuBus(device, 19200, timeout_s=1.0)
        meter = ModbusMeter(bus, load_register_map("sdm120"), 1)
        reading = await meter.poll()
        assert reading.current_a[0] == pytest.approx(7.0)
        assert reading.voltage_v[0] == pytest.approx(230.0)
        await meter.close()
    finally:
        started.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(started.process.wait(), 10) == 0


async def test_a_grid_meter_plays_a_scenario_beside_the_charger_meter_on_one_rtu_line() -> None:
    """Unit 1 is the charger's load, unit 2 the grid: the evening peak's house and PV at
    18:00 with the charger's 10 A on top; the control sets the house live."""
    started = await _start(
        "--pty", "--baud", "19200", "--current", "10", "--grid-device-id", "2",
        "--scenario", "evening_peak", "--speed", "1", "--start-s", "64800",
        "--control", "127.0.0.1:0",
        lines=2,
    )  # fmt: skip
    try:
        assert "grid meter device 2" in started.lines[0]
        bus = ModbusRtuBus(started.endpoint("modbus rtu "), 19200, timeout_s=1.0)
        sdm630 = load_register_map("sdm630")
        charger, grid = ModbusMeter(bus, sdm630, 1), ModbusMeter(bus, sdm630, 2)
        assert (await charger.poll()).current_a == pytest.approx((10.0,) * 3)
        peak = Scenario.bundled("evening_peak").at(64800.0)
        pv_a = peak.pv_w / 690.0
        expected = tuple(h + 10.0 - pv_a for h in peak.house_a)
        assert (await grid.poll()).current_a == pytest.approx(expected, abs=0.05)
        control = started.endpoint("control ")
        async with aiohttp.ClientSession() as http:
            body = {"house_a": [1, 2, 3], "pv_w": 0}
            async with http.put(f"{control}/site", json=body) as reply:
                assert reply.status == 200
                assert (await reply.json())["scenario"] is None
            async with http.put(f"{control}/site", json={"scenario": "rainy"}) as reply:
                assert reply.status == 400
                assert "no scenario 'rainy'" in (await reply.json())["error"]
        assert (await grid.poll()).current_a == pytest.approx((11.0, 12.0, 13.0), abs=0.05)
        await charger.close()
    finally:
        started.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(started.process.wait(), 10) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "sunny_day"], "--scenario plays a grid meter's site"),
        (["--grid-device-id", "1"], "--grid-device-id must differ from --device-id"),
        (["--grid-device-id", "2", "--scenario", "x"], "--scenario: no scenario 'x'"),
        (["--device-id", "0"], "device_id must be 1..247, got 0"),
        (["--current", "500"], "current_a must be 0..100, got 500.0"),
        (["--map", "abb_b23", "--fault", "nan"], "--fault: fault nan needs float registers"),
        (["--tcp", "localhost"], "argument --tcp: expected HOST:PORT, got 'localhost'"),
    ],
)
async def test_bad_arguments_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    port = [] if "--tcp" in args else ["--tcp", "127.0.0.1:0"]
    process = await asyncio.create_subprocess_exec(
        *COMMAND, *args, *port, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 2
    assert message in err.decode().strip().splitlines()[-1]
