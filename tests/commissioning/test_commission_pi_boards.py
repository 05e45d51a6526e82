"""Commissioning on the bundled Raspberry Pi boards, whole, with fakes only below the seams
the hardware owns: the relay HAT's GPIO, PWM tree and I2C chips answer as its wiring does
(the coil behind its keep-alive monostable, the RCD module's test input, the lock), the
meter is a real Modbus RTU server on a pty; pi-pico-pilot's co-processor is its firmware in
MicroPython."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.board.test_pi_boards import field_board, relay_hat, relay_hat_box, serial_lines
from tests.conftest import FAST_CONFIG, running_wallbox
from tests.fakes.relay_hat import RelayHatWorld
from tests.fakes.rpi_gpio import FakeGpio
from tests.fakes.smbus import FakeAds1115, FakeBus, FakeTmp102
from tests.rigs.micropython_port import running_pico

__all__ = ["relay_hat"]  # the fixture, used by name


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {step["step"]: step["outcome"] for step in report["steps"]}


async def test_pi_relay_hat_passes_on_its_real_drivers_and_finds_a_tripped_rcd(
    tmp_path: Path, gpio: FakeGpio, relay_hat: tuple[RelayHatWorld, FakeAds1115, FakeTmp102]
) -> None:
    world, _, _ = relay_hat
    async with serial_lines() as lines, relay_hat_box(tmp_path, world, lines) as box:
        code, report = await box.post("/api/commission", {})
        assert code == 200, report
        assert _outcomes(report) == {
            "pilot +12 V": "pass",
            "pilot PWM levels": "pass",
            "RCD self-test": "pass",
            "contactor and mirror": "pass",
            "phase contactor": "skipped",
            "lock": "pass",
            "meter": "pass",
            "grid meter": "skipped",
            "temperatures": "pass",
            "CSMS": "skipped",
            "clock": "pass",
        }, report
        world.rcd_fault = True
        await box.wait_for(lambda s: "rcd" in s["faults"])
        code, report = await box.post("/api/commission", {})
        assert _outcomes(report)["RCD self-test"] == "fail"
        assert _outcomes(report)["contactor and mirror"] == "skipped"
        assert not world.energised()


async def test_pi_pico_pilot_leaves_its_contactor_to_the_co_processors_rule(
    tmp_path: Path, gpio: FakeGpio, i2c: FakeBus
) -> None:
    i2c.chips[(1, 0x48)] = FakeTmp102(30.0)
    gpio.wired.update({24: 1, 26: 0})  # temperature alert idle, lid shut
    pico_dir = tmp_path / "pico"
    pico_dir.mkdir()
    with running_pico(pico_dir) as pico:
        async with serial_lines() as lines:
            board = field_board(
                tmp_path,
                "pi-pico-pilot.toml",
                {
                    '"/dev/ttyAMA0"': f'"{pico.wire.a_path}"',
                    '"/dev/rfid"': f'"{lines.rfid.a_path}"',
                    '"/dev/rs485"': f'"{lines.meter.a_path}"',
                },
            )
            async with running_wallbox(tmp_path, FAST_CONFIG, board=board) as box:
                code, report = await box.post("/api/commission", {})
    assert code == 200, report
    steps = {step["step"]: step for step in report["steps"]}
    assert steps["contactor and mirror"]["outcome"] == "skipped"
    assert "co-processor" in steps["contactor and mirror"]["reason"]
    assert steps["lock"]["reason"] == "no lock on this board (tethered cable)"
    assert steps["RCD self-test"]["outcome"] == "pass", steps["RCD self-test"]
    assert steps["pilot +12 V"]["outcome"] == "pass", steps["pilot +12 V"]
    assert steps["pilot PWM levels"]["outcome"] == "pass", steps["pilot PWM levels"]
    assert steps["meter"]["outcome"] == "pass", steps["meter"]
