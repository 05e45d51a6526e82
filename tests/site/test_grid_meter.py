"""A grid meter the box polls itself: an SDM630 emulator on a real pymodbus TCP server on
loopback, declared in the board file next to the bench's own meter. Its phase currents set
the main-fuse headroom; when it stops answering the reading goes stale and the offer falls
to the failsafe."""

from __future__ import annotations

from pathlib import Path

import pytest

from pievse.hal.register_map import load_register_map
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from tests.conftest import FAST_CONFIG, running_wallbox
from tests.rigs.paths import BENCH_SIM

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
    text = BENCH_SIM.read_text().replace(
        "[pilot]",
        f'grid_bus = {{ driver = "modbus.tcp", host = "127.0.0.1", port = {port} }}\n\n'
        '[grid_meter]\ndriver = "modbus"\nbus = "grid_bus"\nmap = "sdm630"\ndevice_id = 2\n\n'
        "[pilot]",
        1,
    )
    path = tmp_path / "bench-sim-grid.toml"
    path.write_text(text)
    return str(path)


async def test_the_polled_grid_meter_sets_the_headroom_and_its_silence_the_failsafe(
    tmp_path: Path,
) -> None:
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
    finally:
        await emulator.stop()
