"""One set of behaviour checks for every port driver of the assembly table, simulated and
real alike (gpiozero runs its pin tests the same way over each pin factory): what a device
built on a port relies on must hold whichever driver the board file names."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pievse.board.drivers import PORT_DRIVERS
from pievse.hal.linux.ads1115 import Ads1115, Ads1115Input
from pievse.hal.linux.gpio import GpioIn, GpioOut
from pievse.hal.linux.i2c import I2cBus
from pievse.hal.linux.serial_link import SerialByteLink
from pievse.hal.linux.sysfs_pwm import SysfsPwmOut
from pievse.hal.sim.plant import Plant, PlantSettings
from pievse.hal.sim.ports import SimAnalogIn, SimByteLink, SimDigitalIn, SimDigitalOut, SimPwmOut
from pievse.hal.sim.serial_wire import SerialWire
from tests.fakes.rpi_gpio import FakeGpio
from tests.fakes.smbus import FakeAds1115, FakeBus
from tests.fakes.sysfs_pwm import FakePwmChip


@dataclass
class Seam:
    """A port under test and the hardware side of it: what the wire shows, how to drive it."""

    port: Any
    seen: Callable[[], Any] = lambda: None
    drive: Callable[[Any], None] = lambda _value: None


# --- digital outputs ----------------------------------------------------------------------


def _sim_out(_request: pytest.FixtureRequest) -> Seam:
    plant = Plant(PlantSettings())
    return Seam(SimDigitalOut(plant, "contactor_coil"), lambda: plant.output("contactor_coil"))


def _gpio_out(request: pytest.FixtureRequest, active_low: bool = False) -> Seam:
    gpio: FakeGpio = request.getfixturevalue("gpio")
    port = GpioOut(17, active_low=active_low)
    return Seam(port, lambda: (gpio.level(17) == gpio.HIGH) != active_low)


DIGITAL_OUTS = {
    "sim.digital_out": _sim_out,
    "linux.gpio_out": _gpio_out,
    "linux.gpio_out (active low)": lambda r: _gpio_out(r, active_low=True),
}


@pytest.mark.parametrize("driver", DIGITAL_OUTS)
def test_a_digital_output_starts_inactive_and_shows_each_write(
    driver: str, request: pytest.FixtureRequest
) -> None:
    seam = DIGITAL_OUTS[driver](request)
    assert seam.seen() is False, "inactive from the moment it exists (a coil stays open)"
    for level in (True, True, False, True, False, False):
        seam.port.write(level)
        assert seam.seen() is level


# --- digital inputs -----------------------------------------------------------------------


def _sim_in(_request: pytest.FixtureRequest) -> Seam:
    plant = Plant(PlantSettings())
    return Seam(
        SimDigitalIn(plant, "rcd_trip"),
        drive=lambda level: plant.set_fault("rcd", level),
    )


def _gpio_in(request: pytest.FixtureRequest, active_low: bool = False) -> Seam:
    gpio: FakeGpio = request.getfixturevalue("gpio")
    port = GpioIn(23, pull="up" if active_low else "down", active_low=active_low)
    return Seam(
        port, drive=lambda level: gpio.drive(23, gpio.HIGH if level != active_low else gpio.LOW)
    )


DIGITAL_INS = {
    "sim.digital_in": _sim_in,
    "linux.gpio_in": _gpio_in,
    "linux.gpio_in (active low)": lambda r: _gpio_in(r, active_low=True),
}


@pytest.mark.parametrize("driver", DIGITAL_INS)
def test_a_digital_input_reads_its_level_and_reports_each_edge_once(
    driver: str, request: pytest.FixtureRequest
) -> None:
    seam = DIGITAL_INS[driver](request)
    assert seam.port.read() is False, "idle when nothing drives it"
    edges: list[bool] = []
    seam.port.on_edge(edges.append)
    seam.drive(True)
    assert seam.port.read() is True
    seam.drive(False)
    assert seam.port.read() is False
    assert edges == [True, False], "the new level, once per change"


# --- PWM ----------------------------------------------------------------------------------


def _sim_pwm(_request: pytest.FixtureRequest) -> Seam:
    plant = Plant(PlantSettings())
    wire = {"pilot": 0.0}
    plant.probe_outputs(wire.__setitem__)
    return Seam(SimPwmOut(plant), lambda: wire["pilot"])


def _sysfs_pwm(request: pytest.FixtureRequest, inverted: bool = False) -> Seam:
    chip: FakePwmChip = request.getfixturevalue("pwm_chip")
    port = SysfsPwmOut(0, 0, root=str(chip.root), inverted=inverted)

    def duty() -> float:
        fraction = chip.value(0, "duty_cycle") / chip.value(0, "period")
        return 1.0 - fraction if inverted else fraction

    return Seam(port, duty)


PWMS = {
    "sim.pwm": _sim_pwm,
    "linux.sysfs_pwm": _sysfs_pwm,
    "linux.sysfs_pwm (inverted)": lambda r: _sysfs_pwm(r, inverted=True),
}


@pytest.mark.parametrize("driver", PWMS)
def test_a_pwm_output_runs_the_duty_it_is_set_to_and_refuses_others(
    driver: str, request: pytest.FixtureRequest
) -> None:
    seam = PWMS[driver](request)
    for duty in (0.1, 0.5333, 0.9, 1.0, 0.0):
        seam.port.set(1000.0, duty)
        assert seam.seen() == pytest.approx(duty, abs=1e-4)
    for wrong in (-0.1, 1.5):
        with pytest.raises(ValueError):
            seam.port.set(1000.0, wrong)
    assert seam.seen() == pytest.approx(0.0, abs=1e-4), "a refused duty changes nothing"


# --- analog inputs ------------------------------------------------------------------------


def _sim_analog(_request: pytest.FixtureRequest) -> Seam:
    plant = Plant(PlantSettings())
    settings = plant.settings
    return Seam(
        SimAnalogIn(plant, "enclosure_temp"),
        drive=lambda volts: plant.set_temperature(
            (volts - settings.sensor_offset_v) / settings.sensor_volts_per_c
        ),
    )


def _ads1115(request: pytest.FixtureRequest) -> Seam:
    bus: FakeBus = request.getfixturevalue("i2c")
    adc = FakeAds1115()
    bus.chips[(1, 0x48)] = adc
    port = Ads1115Input(Ads1115(I2cBus(1), 0x48), 2)

    def drive(volts: float) -> None:
        adc.volts[2] = volts

    return Seam(port, drive=drive)


ANALOGS = {"sim.analog": _sim_analog, "linux.ads1115_channel": _ads1115}


@pytest.mark.parametrize("driver", ANALOGS)
def test_an_analog_input_reads_the_volts_at_its_pin(
    driver: str, request: pytest.FixtureRequest
) -> None:
    seam = ANALOGS[driver](request)
    for volts in (0.25, 1.5, 3.0, 0.75):
        seam.drive(volts)
        assert seam.port.read_volts() == pytest.approx(volts, abs=0.005)


# --- byte links ---------------------------------------------------------------------------


@contextlib.contextmanager
def _wire() -> Iterator[SerialWire]:
    wire = SerialWire()
    try:
        yield wire
    finally:
        wire.close()


BYTE_LINKS = ("sim.byte_link", "linux.serial")


@pytest.mark.parametrize("driver", BYTE_LINKS)
async def test_a_byte_link_delivers_what_arrives_in_order_and_takes_writes(driver: str) -> None:
    with _wire() as wire:
        if driver == "linux.serial":
            link: Any = SerialByteLink(wire.a_path, 115200)
            far = open(wire.b_path, "r+b", buffering=0)  # noqa: SIM115 - closed below
            arrive: Callable[[bytes], None] = far.write
        else:
            plant = Plant(PlantSettings())
            link = SimByteLink(plant)
            far = None
            arrive = lambda data: plant.present_tag(data.decode().rstrip("\n"))  # noqa: E731
        try:
            link.write(b"\x00\x00\xff")  # a command: sent, or ignored by a bench reader
            arrive(b"04a1\n")
            arrive(b"04b2\n")
            got = b""
            while len(got) < 10:
                got += await asyncio.wait_for(link.read(64), 2.0)
            assert got == b"04a1\n04b2\n"
            if far is not None:
                assert far.read(3) == b"\x00\x00\xff"
        finally:
            if far is not None:
                far.close()


def test_every_port_driver_of_the_assembly_table_has_its_contract_run() -> None:
    covered = {
        name.split(" ")[0] for name in (*DIGITAL_OUTS, *DIGITAL_INS, *PWMS, *ANALOGS, *BYTE_LINKS)
    }
    composite = {"linux.i2c", "linux.ads1115"}
    """Chips, not ports a device uses: run through linux.ads1115_channel."""
    assert set(PORT_DRIVERS) - covered - composite == {
        "sim.meter_emulator",
        "modbus.tcp",
        "modbus.rtu",
        "coprocessor.serial",
    }
