"""The Raspberry Pi drivers at the seams the hardware owns: a fake RPi.GPIO module, a sysfs
PWM tree in a temporary directory, a fake SMBus with ADS1115/TMP102 registers, pty lines."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from pievse.firmware.control.duty_cycle import duty_percent
from pievse.hal.devices.cable import ProximityCableSense
from pievse.hal.devices.pilot import PeakHoldPilot
from pievse.hal.devices.pn532 import Pn532Error, Pn532TagReader
from pievse.hal.devices.thermometer import ntc, tmp102, tmp102_word
from pievse.hal.interfaces import CableFault, PilotState
from pievse.hal.linux.ads1115 import Ads1115, Ads1115Input, config_word
from pievse.hal.linux.gpio import GpioIn, GpioOut
from pievse.hal.linux.i2c import I2cBus
from pievse.hal.linux.serial_link import SerialByteLink
from pievse.hal.linux.sysfs_pwm import SysfsPwmOut
from pievse.hal.ports import HardwareUnavailable
from pievse.hal.sim.serial_wire import SerialWire
from tests.fakes.pn532 import FakePn532
from tests.fakes.rpi_gpio import FakeGpio
from tests.fakes.smbus import FakeAds1115, FakeBus, FakeTmp102
from tests.fakes.sysfs_pwm import FakePwmChip

PILOT_GAIN, PILOT_OFFSET = 6.3, -12.6
"""The pi-relay-hat front end: pilot volts = ADC volts * 6.3 - 12.6."""

# --- GPIO -------------------------------------------------------------------------------


def test_outputs_are_inactive_from_the_moment_they_exist(gpio: FakeGpio) -> None:
    coil = GpioOut(17)
    assert gpio.pins[17].writes == [gpio.LOW], "driven low at setup, not after"
    inverted = GpioOut(5, active_low=True)
    assert gpio.level(5) == gpio.HIGH
    coil.write(True)
    inverted.write(True)
    assert (gpio.level(17), gpio.level(5)) == (gpio.HIGH, gpio.LOW)
    assert gpio.mode == gpio.BCM


def test_inputs_pull_invert_and_deliver_edges_on_the_gpio_thread(gpio: FakeGpio) -> None:
    trip = GpioIn(23, pull="up", active_low=True, debounce_ms=5)
    assert gpio.pins[23].pull == gpio.PUD_UP
    assert trip.read() is False, "pulled up, active low: idle"
    seen: list[tuple[bool, str]] = []
    trip.on_edge(lambda level: seen.append((level, threading.current_thread().name)))
    assert gpio.pins[23].bouncetime == 5
    gpio.drive(23, gpio.LOW)
    assert trip.read() is True
    assert seen == [(True, "gpio-edges")]
    gpio.drive(23, gpio.HIGH)
    assert seen[-1][0] is False


def test_pins_and_pulls_are_checked(gpio: FakeGpio) -> None:
    with pytest.raises(ValueError, match=r"BCM GPIO number 0\.\.27"):
        GpioOut(40)
    with pytest.raises(ValueError, match="pull: expected one of up, down, off"):
        GpioIn(4, pull="sideways")


def test_without_rpi_gpio_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "RPi", None)
    with pytest.raises(HardwareUnavailable, match=r"pip install 'pievse\[pi\]'.*rpi-lgpio"):
        GpioOut(17)


def test_off_a_raspberry_pi_it_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = tmp_path / "RPi"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "GPIO.py").write_text(
        "raise RuntimeError('This module can only be run on a Raspberry Pi!')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "RPi", raising=False)
    monkeypatch.delitem(sys.modules, "RPi.GPIO", raising=False)
    with pytest.raises(HardwareUnavailable, match="only be run on a Raspberry Pi"):
        GpioIn(23)


# --- kernel PWM ---------------------------------------------------------------------------


class Volts:
    def __init__(self, volts: float = 12.0) -> None:
        self.volts = volts

    def read_volts(self) -> float:
        return self.volts


def test_a_missing_pwm_chip_names_the_overlay(tmp_path: Path) -> None:
    with pytest.raises(HardwareUnavailable, match="dtoverlay=pwm-2chan"):
        SysfsPwmOut(0, 0, root=str(tmp_path))


@pytest.mark.parametrize("amps", [6, 10, 13, 16, 20, 25, 32, 40, 51, 63, 80])
def test_exact_period_and_duty_written_for_each_current(pwm_chip: FakePwmChip, amps: float) -> None:
    pilot = PeakHoldPilot(SysfsPwmOut(0, 0, root=str(pwm_chip.root)), Volts(), Volts())
    assert pwm_chip.exported == [0]
    assert pwm_chip.value(0, "period") == 1_000_000, "1 kHz"
    assert pwm_chip.value(0, "duty_cycle") == 1_000_000, "steady +12 V before anything else"
    assert pwm_chip.value(0, "enable") == 1
    pilot.set_duty(duty_percent(amps))
    expected = round(1_000_000 * (amps / 0.6 if amps <= 51 else amps / 2.5 + 64) / 100)
    assert pwm_chip.value(0, "duty_cycle") == expected
    pilot.set_state_f()
    assert pwm_chip.value(0, "duty_cycle") == 0, "steady -12 V"
    pilot.set_steady_high()
    assert pwm_chip.value(0, "duty_cycle") == 1_000_000


def test_an_inverting_output_stage_gets_the_complement(pwm_chip: FakePwmChip) -> None:
    pwm = SysfsPwmOut(0, 1, root=str(pwm_chip.root), inverted=True)
    pwm.set(1000, 0.25)
    assert pwm_chip.value(1, "duty_cycle") == 750_000


def test_an_exported_channel_is_used_as_it_is(pwm_chip: FakePwmChip) -> None:
    SysfsPwmOut(0, 0, root=str(pwm_chip.root))
    SysfsPwmOut(0, 0, root=str(pwm_chip.root)).set(1000, 0.5)
    assert pwm_chip.exported == [0]
    assert pwm_chip.value(0, "duty_cycle") == 500_000
    with pytest.raises(ValueError, match=r"channels 0\.\.1"):
        SysfsPwmOut(0, 2, root=str(pwm_chip.root))


# --- ADS1115, the pilot's peaks and PP ----------------------------------------------------


def _adc(bus: FakeBus) -> tuple[FakeAds1115, Ads1115]:
    chip = FakeAds1115()
    bus.chips[(1, 0x48)] = chip
    return chip, Ads1115(I2cBus(1), 0x48)


def test_single_shot_config_words() -> None:
    assert [config_word(ch, 4.096) for ch in range(4)] == [0xC3E3, 0xD3E3, 0xE3E3, 0xF3E3]
    assert config_word(0, 6.144) == 0xC1E3


@pytest.mark.parametrize(
    ("high", "low", "pwm", "state", "diode"),
    [
        (12.0, 12.0, False, PilotState.A, True),
        (9.0, -12.0, True, PilotState.B, True),
        (6.0, -12.0, True, PilotState.C, True),
        (3.0, -12.0, True, PilotState.D, True),
        (0.0, 0.0, True, PilotState.E, True),
        (-12.0, -12.0, True, PilotState.F, True),
        (6.0, -6.0, True, PilotState.C, False),
    ],
)
def test_pilot_states_through_the_peak_hold_front_end(
    i2c: FakeBus,
    pwm_chip: FakePwmChip,
    high: float,
    low: float,
    pwm: bool,
    state: PilotState,
    diode: bool,
) -> None:
    chip, adc = _adc(i2c)
    channels = [Ads1115Input(adc, ch, 4.096, PILOT_GAIN, PILOT_OFFSET) for ch in (0, 1)]
    pilot = PeakHoldPilot(SysfsPwmOut(0, 0, root=str(pwm_chip.root)), *channels)
    if pwm:
        pilot.set_duty(53.3)
    chip.volts[0] = (high - PILOT_OFFSET) / PILOT_GAIN
    chip.volts[1] = (low - PILOT_OFFSET) / PILOT_GAIN
    sample = pilot.sample()
    assert sample.state == state
    assert sample.diode_ok is diode
    assert sample.high_v == pytest.approx(high, abs=0.01)
    assert chip.configs[-2:] == [0xC3E3, 0xD3E3]


@pytest.mark.parametrize(
    ("ohm", "rating"), [(1500, 13.0), (680, 20.0), (220, 32.0), (100, 63.0), (None, None)]
)
def test_pp_resistor_gives_the_cable_rating(
    i2c: FakeBus, ohm: float | None, rating: float | None
) -> None:
    chip, adc = _adc(i2c)
    pp = ProximityCableSense(Ads1115Input(adc, 2, 4.096), pull_up_ohm=1000, supply_v=3.3)
    chip.volts[2] = 3.3 if ohm is None else 3.3 * ohm / (ohm + 1000)
    assert pp.rating_a() == rating


@pytest.mark.parametrize("ohm", [40, 3000])
def test_pp_out_of_range_is_a_cable_fault(i2c: FakeBus, ohm: float) -> None:
    chip, adc = _adc(i2c)
    pp = ProximityCableSense(Ads1115Input(adc, 2, 4.096), pull_up_ohm=1000, supply_v=3.3)
    chip.volts[2] = 3.3 * ohm / (ohm + 1000)
    with pytest.raises(CableFault):
        pp.rating_a()


def test_a_missing_adc_or_bus_names_what_to_check(i2c: FakeBus) -> None:
    with pytest.raises(HardwareUnavailable, match="ADS1115 at 0x48 on /dev/i2c-1: no answer"):
        Ads1115(I2cBus(1), 0x48)
    with pytest.raises(HardwareUnavailable, match="no I2C bus /dev/i2c-3: enable I2C"):
        I2cBus(3)


# --- temperature --------------------------------------------------------------------------


def test_tmp102_alert_points_are_programmed_and_readings_decoded(i2c: FakeBus) -> None:
    sensor = FakeTmp102(25.5)
    i2c.chips[(1, 0x49)] = sensor
    thermometer = tmp102(I2cBus(1), trip_c=80, resume_c=70, address=0x49)
    assert sensor.registers[0x01] == b"\x78\xa0"
    assert sensor.registers[0x03] == tmp102_word(80) == b"\x50\x00"
    assert sensor.registers[0x02] == b"\x46\x00"
    assert thermometer.read_c() == 25.5
    sensor.celsius = -10.25
    assert thermometer.read_c() == -10.25


def test_ntc_in_its_divider() -> None:
    adc = Volts(1.65)
    sensor = ntc(adc, 3.3, 10_000, 10_000, 3950, trip_c=90, resume_c=75)
    assert sensor.read_c() == pytest.approx(25.0, abs=0.01)
    adc.volts = 0.55  # 2 kOhm: hot
    assert sensor.read_c() == pytest.approx(66.0, abs=1.0)
    adc.volts = 0.0
    with pytest.raises(OSError, match="open or shorted"):
        sensor.read_c()


# --- serial lines and the PN532 -----------------------------------------------------------


async def test_serial_byte_link_on_a_pty_line() -> None:
    wire = SerialWire()
    try:
        link = SerialByteLink(wire.a_path, 115200)
        other = os.open(wire.b_path, os.O_RDWR | os.O_NOCTTY)
        os.write(other, b"hello")
        assert await asyncio.wait_for(link.read(64), 2) == b"hello"
        link.write(b"back")
        await asyncio.sleep(0.1)
        assert os.read(other, 64) == b"back"
        os.close(other)
    finally:
        wire.close()


def test_a_missing_serial_device_says_so() -> None:
    with pytest.raises(HardwareUnavailable, match=r"serial device /dev/ttyNOPE.*enable_uart"):
        SerialByteLink("/dev/ttyNOPE")


async def test_pn532_reads_a_card_once_per_presentation() -> None:
    wire = SerialWire()
    reader_end = FakePn532(wire.b_path)
    try:
        reader = Pn532TagReader(SerialByteLink(wire.a_path), poll_interval_s=0.05)
        reader_end.card = bytes.fromhex("04a1b2c3")
        assert await asyncio.wait_for(reader.next_tag(), 3) == "04A1B2C3"
        assert reader_end.commands[:2] == [0x14, 0x32], "SAM, then retries limited"
        with pytest.raises(TimeoutError):  # held on the reader: not presented again
            await asyncio.wait_for(reader.next_tag(), 0.4)
        reader_end.card = None
        await asyncio.sleep(0.2)
        reader_end.card = bytes.fromhex("04a1b2c3d4e5f6")
        assert await asyncio.wait_for(reader.next_tag(), 3) == "04A1B2C3D4E5F6"
    finally:
        reader_end.close()
        wire.close()


async def test_a_pn532_that_does_not_answer_is_a_reader_failure() -> None:
    wire = SerialWire()
    try:
        reader = Pn532TagReader(SerialByteLink(wire.a_path))
        started = time.monotonic()
        with pytest.raises(Pn532Error, match="did not answer"):
            await reader.next_tag()
        assert time.monotonic() - started < 1.0
        assert isinstance(Pn532Error("x"), OSError), "a failure, not a quiet wait"
    finally:
        wire.close()
