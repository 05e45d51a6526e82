"""A grid meter the box polls itself, declared in a board file that extends bench-sim: an
SDM630 emulator on a real pymodbus TCP server on loopback, or unit 2 beside the charger's
meter on one RTU line (a pseudo-terminal pair). Its phase currents set the main-fuse
headroom; when it stops answering the reading goes stale and the offer falls to the
failsafe."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pievse.hal.register_map import load_register_map
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from pievse.hal.sim.serial_wire import SerialWire
from tests.conftest import FAST_CONFIG, running_wallbox

CONFIG = (
    FAST_CONFIG
    + """
[site]
main_fuse_a = 25.0
grid_timeout_s = 1.0
ramp_up_a_per_s = 100.0
"""
)


def _board_with_grid_meter(tmp_path: Path, port: int) -> str:
    path = tmp_path / "bench-sim-grid.toml"
    path.write_text(
        '[board]\nextends = "bench-sim"\n\n[ports]\n'
        f'grid_bus = {{ driver = "modbus.tcp", host = "127.0.0.1", port = {port} }}\n\n'
        '[grid_meter]\nbus = "grid_bus"\n'
    )
    return str(path)


async def test_the_polled_grid_meter_sets_the_headroom_and_its_silence_the_failsafe(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pievse.firmware.site.grid_meter")
    house = SetLoad()
    house.set(current_a=12.0)
    emulator = MeterEmulator(load_register_map("sdm630"), house, device_id=2)
    _, port = await emulator.start_tcp("127.0.0.1", 0)
    try:
        board = _board_with_grid_meter(tmp_path, port)
        async with running_wallbox(tmp_path / "box", CONFIG, board=board) as bench:
            status = await bench.wait_for(
                lambda s: s["site"]["grid_current_a"] is not None, timeout=5
            )
            assert status["site"]["grid_current_a"] == pytest.approx([12.0] * 3, abs=0.1)
            assert status["limit"]["sources"]["main_fuse"] == pytest.approx(13.0, abs=0.2)
            house.set(current_a=20.0)
            await bench.wait_for(
                lambda s: s["limit"]["sources"]["main_fuse"] == pytest.approx(5.0, abs=0.2),
                timeout=5,
            )
            await emulator.stop()
            status = await bench.wait_for(lambda s: s["site"]["main_fuse"]["stale"], timeout=5)
            assert status["limit"]["sources"]["main_fuse"] == 6.0
        stale = [r for r in caplog.records if "its reading goes stale" in r.getMessage()]
        assert [r.levelno for r in stale] == [logging.WARNING], "a meter that answered is missed"
    finally:
        await emulator.stop()


async def test_a_grid_meter_on_the_charger_meters_rtu_line_is_read_as_unit_2(
    tmp_path: Path,
) -> None:
    """One RS485 line, two SDM630s: the charger's (unit 1, the bench plant's) and the grid's
    (unit 2), each answering only its own address, both read by the real RTU client."""
    wire = SerialWire()
    sdm630 = load_register_map("sdm630")
    charger_load, house = SetLoad(), SetLoad()
    house.set(current_a=9.0)
    charger = MeterEmulator(sdm630, charger_load, device_id=1)
    charger.share_line(MeterEmulator(sdm630, house, device_id=2))
    await charger.start_rtu(wire.b_path, 19200)
    board = tmp_path / "bench-sim-rs485.toml"
    board.write_text(
        '[board]\nextends = "bench-sim"\n\n[ports]\n'
        f'meter_bus = {{ driver = "modbus.rtu", device = "{wire.a_path}", baudrate = 19200 }}\n'
    )
    try:
        async with running_wallbox(tmp_path / "box", CONFIG, board=str(board)) as bench:
            status = await bench.wait_for(
                lambda s: s["site"]["grid_current_a"] is not None, timeout=5
            )
            assert status["site"]["grid_current_a"] == pytest.approx([9.0] * 3, abs=0.1)
            assert status["limit"]["sources"]["main_fuse"] == pytest.approx(16.0, abs=0.2)
            charger_load.set(current_a=3.0)
            status = await bench.wait_for(
                lambda s: s["meter"]["current_a"] == pytest.approx([3.0] * 3, abs=0.1), timeout=5
            )
            assert status["meter"]["online"] and status["meter"]["errors"]["timeout"] == 0
            house.set(current_a=15.0)
            await bench.wait_for(
                lambda s: s["site"]["grid_current_a"] == pytest.approx([15.0] * 3, abs=0.1),
                timeout=5,
            )
    finally:
        await charger.stop()
        wire.close()
