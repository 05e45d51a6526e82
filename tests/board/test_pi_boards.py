"""The two Raspberry Pi boards, whole: `pievse run` with the bundled board files, on the real
drivers, with fakes only below the seams the hardware owns (RPi.GPIO, the sysfs PWM tree,
the I2C bus, serial lines as ptys). The meter is a real Modbus RTU server on a pty, the card
reader a PN532 on another; on pi-pico-pilot the co-processor is the firmware in MicroPython.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pievse.board.loader import BoardError
from pievse.hal.register_map import load_register_map
from pievse.hal.sim.meter_emulator import MeterEmulator, SetLoad
from pievse.hal.sim.serial_wire import SerialWire
from pievse.hal.sim.site import SiteGridSource, SiteModel
from tests.conftest import FAST_CONFIG, BenchClient, running_wallbox
from tests.fakes.pn532 import FakePn532
from tests.fakes.relay_hat import COIL, KEEPALIVE, PHASE_COIL, RCD_TRIP, RelayHatWorld
from tests.fakes.rpi_gpio import FakeGpio
from tests.fakes.smbus import FakeAds1115, FakeBus, FakeTmp102
from tests.fakes.sysfs_pwm import FakePwmChip
from tests.rigs.micropython_port import Pico, running_pico
from tests.rigs.paths import BOARDS

CARD = bytes.fromhex("04a1b2c3")


@dataclass
class Lines:
    meter: SerialWire
    rfid: SerialWire
    reader: FakePn532
    load: SetLoad


@contextlib.asynccontextmanager
async def serial_lines() -> AsyncIterator[Lines]:
    """An SDM630 on the RS485 line and a PN532 on the reader's line."""
    meter_wire, rfid_wire = SerialWire(), SerialWire()
    load = SetLoad()
    emulator = MeterEmulator(load_register_map("sdm630"), load, device_id=1)
    await emulator.start_rtu(meter_wire.b_path, 9600)
    reader = FakePn532(rfid_wire.b_path)
    try:
        yield Lines(meter_wire, rfid_wire, reader, load)
    finally:
        reader.close()
        await emulator.stop()
        meter_wire.close()
        rfid_wire.close()


def field_board(tmp_path: Path, name: str, replacements: dict[str, str]) -> str:
    """The bundled board file with device paths pointed at this test's lines."""
    text = (BOARDS / name).read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


async def present_card(box: BenchClient, reader: FakePn532) -> None:
    reader.card = CARD
    await box.wait_for(lambda s: s["session"] is not None)
    reader.card = None


# --- pi-relay-hat ---------------------------------------------------------------------------


@pytest.fixture
def relay_hat(
    gpio: FakeGpio, i2c: FakeBus, pwm_chip: FakePwmChip
) -> tuple[RelayHatWorld, FakeAds1115, FakeTmp102]:
    adc, enclosure = FakeAds1115(), FakeTmp102(25.0)
    i2c.chips[(1, 0x48)] = adc
    i2c.chips[(1, 0x49)] = enclosure
    world = RelayHatWorld(gpio, adc, pwm_chip, SetLoad())
    yield world, adc, enclosure
    world.close()


@contextlib.asynccontextmanager
async def relay_hat_box(
    tmp_path: Path, world: RelayHatWorld, lines: Lines
) -> AsyncIterator[BenchClient]:
    board = field_board(
        tmp_path,
        "pi-relay-hat.toml",
        {
            "chip = 0, channel = 0 }": f'chip = 0, channel = 0, root = "{world.pwm.root}" }}',
            '"/dev/ttyAMA0"': f'"{lines.rfid.a_path}"',
            '"/dev/rs485"': f'"{lines.meter.a_path}"',
        },
    )
    world.load = lines.load
    async with running_wallbox(tmp_path, FAST_CONFIG, board=board) as box:
        yield box


async def test_pi_relay_hat_charges_and_trips_on_its_real_drivers(
    tmp_path: Path, gpio: FakeGpio, relay_hat: tuple[RelayHatWorld, FakeAds1115, FakeTmp102]
) -> None:
    world, _adc, enclosure = relay_hat
    async with serial_lines() as lines, relay_hat_box(tmp_path, world, lines) as box:
        assert gpio.pins[COIL].writes[0] == gpio.LOW, "contactor open from the first write"
        assert world.duty_fraction() == 1.0, "steady +12 V at start-up"
        status = await box.status()
        assert status["temperature_c"] == pytest.approx(25.0)
        assert status["pilot"]["state"] == "A"

        world.ev_state = "B"
        await box.wait_status("1", "Preparing")
        await present_card(box, lines.reader)
        await box.wait_for(lambda s: s["pilot"]["duty_percent"] is not None)
        assert world.duty_fraction() == pytest.approx(0.5333, abs=1e-4), "32 A: cable, board"
        world.ev_state = "C"
        charging = await box.wait_for(
            lambda s: s["connectors"]["1"]["status"] == "Charging" and s["contactor"] == "closed"
        )
        assert charging["pilot"]["high_v"] == pytest.approx(6.0, abs=0.05)
        assert charging["pilot"]["low_v"] == pytest.approx(-12.0, abs=0.05)
        toggles = len(gpio.pins[KEEPALIVE].writes)
        await box.wait_for(lambda s: s["meter"]["current_a"][0] == pytest.approx(16.0))
        assert len(gpio.pins[KEEPALIVE].writes) > toggles, "the monostable is kept triggered"

        enclosure.celsius = 65.0  # first derating step: 16 A
        derated = await box.wait_for(lambda s: s["pilot"]["offered_a"] == 16.0, timeout=5)
        assert derated["limit"]["source"] == "thermal"

        world.rcd_fault = True
        tripped_at = time.monotonic()
        while gpio.level(COIL) != gpio.LOW:
            assert time.monotonic() - tripped_at < 0.1, "coil still on after an RCD trip"
            time.sleep(0.0005)
        faulted = await box.wait_status("1", "Faulted")
        assert faulted["connectors"]["1"]["error_code"] == "GroundFailure"
        assert gpio.level(RCD_TRIP) == gpio.LOW
        # measured by the mirror contact, which follows the coil a moment later
        await box.wait_for(lambda s: s["contactor"] == "open", timeout=0.5)


async def test_pi_relay_hat_without_its_adc_names_the_chip(
    tmp_path: Path, gpio: FakeGpio, i2c: FakeBus, pwm_chip: FakePwmChip
) -> None:
    i2c.chips[(1, 0x49)] = FakeTmp102()
    async with serial_lines() as lines:
        world = RelayHatWorld(gpio, FakeAds1115(), pwm_chip, lines.load)
        try:
            with pytest.raises(BoardError, match=r"ADS1115 at 0x48 on /dev/i2c-1: no answer"):
                async with relay_hat_box(tmp_path, world, lines):
                    pass
        finally:
            world.close()


# --- pi-pico-pilot ----------------------------------------------------------------------------


async def test_pi_pico_pilot_charges_with_the_co_processor_in_micropython(
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
                await _pico_session(box, pico, lines)


async def _pico_session(box: BenchClient, pico: Pico, lines: Lines) -> None:
    status = await box.status()
    assert status["temperature_c"] == pytest.approx(30.0)
    assert pico.outputs()["pwm"] == 65535, "steady +12 V from the handshake on"
    pico.ev("B")
    await box.wait_status("1", "Preparing")
    await present_card(box, lines.reader)
    pico.ev("C")
    charging = await box.wait_for(
        lambda s: s["connectors"]["1"]["status"] == "Charging" and s["contactor"] == "closed"
    )
    assert charging["pilot"]["duty_percent"] == pytest.approx(53.3, abs=0.1)
    assert charging["pilot"]["low_v"] == pytest.approx(-12.0, abs=0.3), "sampled in the low phase"
    assert pico.outputs()["17"] == 1, "the co-processor's enable output holds the contactor"
    pico.ev("C", "rcd")
    faulted = await box.wait_status("1", "Faulted")
    assert faulted["connectors"]["1"]["error_code"] == "GroundFailure"
    assert pico.outputs()["17"] == 0
    await box.wait_for(lambda s: s["contactor"] == "open", timeout=0.5)


# --- pi-relay-hat-site ----------------------------------------------------------------------

SITE_CONFIG = (
    FAST_CONFIG
    + """
[site]
main_fuse_a = 25.0
grid_timeout_s = 3.0
ramp_up_a_per_s = 100.0
three_phase_delay_s = 1.0
pv_disable_delay_s = 1.0
phase_switch_pause_s = 5.0
"""
)


async def test_pi_relay_hat_site_switches_phases_for_the_fuse_on_its_gpio(
    tmp_path: Path, gpio: FakeGpio, relay_hat: tuple[RelayHatWorld, FakeAds1115, FakeTmp102]
) -> None:
    """The house loads L2 and L3 so that three phases cannot charge under the 25 A fuse: the
    box chooses one phase before the EV draws; when the house lets go it goes back to three
    with the main contactor open, holding the EV off for the pause."""
    world, _adc, _enclosure = relay_hat
    site = SiteModel()
    site.set_live([0.0, 20.0, 20.0], 0.0)
    async with serial_lines() as lines:
        grid = MeterEmulator(load_register_map("sdm630"), SiteGridSource(site, lines.load), 2)
        # The charger's SDM630 (unit 1) and the grid's (unit 2) on one RS485 line of their own.
        charger_line = SerialWire()
        charger = MeterEmulator(load_register_map("sdm630"), lines.load, device_id=1)
        charger.share_line(grid)
        await charger.start_rtu(charger_line.b_path, 9600)
        parent = field_board(
            tmp_path,
            "pi-relay-hat.toml",
            {
                "chip = 0, channel = 0 }": f'chip = 0, channel = 0, root = "{world.pwm.root}" }}',
                '"/dev/ttyAMA0"': f'"{lines.rfid.a_path}"',
                '"/dev/rs485"': f'"{charger_line.a_path}"',
            },
        )
        board = field_board(
            tmp_path, "pi-relay-hat-site.toml", {'"pi-relay-hat"': f'"{Path(parent).name}"'}
        )
        world.load = lines.load
        try:
            async with running_wallbox(tmp_path, SITE_CONFIG, board=board) as box:
                await box.wait_for(lambda s: s["site"]["grid_current_a"] is not None, timeout=5)
                assert gpio.level(PHASE_COIL) == gpio.HIGH, "three phases at start-up"
                world.ev_state = "B"
                await present_card(box, lines.reader)
                status = await box.wait_for(
                    lambda s: s["site"]["phases"]["switched"] == 1, timeout=5
                )
                assert status["site"]["phases"]["switches"] == 0, "before the EV drew"
                assert gpio.level(PHASE_COIL) == gpio.LOW
                world.ev_state = "C"
                await box.wait_for(lambda s: s["contactor"] == "closed", timeout=5)
                site.set_live([0.0, 0.0, 0.0], 0.0)
                paused = await box.wait_for(
                    lambda s: (
                        s["site"]["phases"]["stage"] == "pause" and s["pilot"]["state"] == "F"
                    ),
                    timeout=8,
                )
                assert paused["contactor"] == "open"
                assert gpio.level(PHASE_COIL) == gpio.HIGH
                back = await box.wait_for(
                    lambda s: s["contactor"] == "closed" and s["site"]["phases"]["switches"] == 1,
                    timeout=10,
                )
                assert back["site"]["phases"]["switched"] == 3
                assert back["faults"] == [], "the mirror followed the coil each time"
        finally:
            await charger.stop()
            charger_line.close()
