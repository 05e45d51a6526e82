"""The device Protocols' obligations (`pievse.hal.interfaces`), checked on each board the
assembly table builds, over its own drivers: the simulated bench and the pi-relay-hat on
fakes below the seams the hardware owns. The pi-pico-pilot's co-processor devices are run
against the MicroPython firmware in `tests/hal/test_pilot_coprocessor.py`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pievse.board.assembly import assemble
from pievse.board.drivers import DEVICE_DRIVERS
from pievse.board.loader import load_board
from pievse.hal.devices.cable import FixedCable
from pievse.hal.interfaces import Board, PilotState
from pievse.hal.sim.meter_emulator import SetLoad
from pievse.hal.sim.serial_wire import SerialWire
from tests.fakes.relay_hat import RelayHatWorld
from tests.fakes.smbus import FakeAds1115, FakeTmp102
from tests.rigs.paths import BOARDS


@dataclass
class AssembledBoard:
    board: Board
    plug: Callable[[str], None]
    """The EV's pilot state (A..F) as the hardware side makes it."""


def _eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _bench_sim(_request: pytest.FixtureRequest, _tmp: Path) -> Iterator[AssembledBoard]:
    board = assemble(load_board("bench-sim"))
    assert board.bench is not None
    plant = board.bench
    yield AssembledBoard(board, lambda state: plant.set_ev(state, None, None))


def _pi_relay_hat(
    request: pytest.FixtureRequest, tmp: Path, variant: str = "pi-relay-hat"
) -> Iterator[AssembledBoard]:
    gpio = request.getfixturevalue("gpio")
    i2c = request.getfixturevalue("i2c")
    pwm = request.getfixturevalue("pwm_chip")
    adc = FakeAds1115()
    i2c.chips[(1, 0x48)] = adc
    i2c.chips[(1, 0x49)] = FakeTmp102(25.0)
    world = RelayHatWorld(gpio, adc, pwm, SetLoad())
    rfid, meter = SerialWire(), SerialWire()
    text = (BOARDS / "pi-relay-hat.toml").read_text()
    text = text.replace("chip = 0, channel = 0 }", f'chip = 0, channel = 0, root = "{pwm.root}" }}')
    text = text.replace('"/dev/ttyAMA0"', f'"{rfid.a_path}"').replace(
        '"/dev/rs485"', f'"{meter.a_path}"'
    )
    path = tmp / "pi-relay-hat.toml"
    path.write_text(text)
    if variant != "pi-relay-hat":
        child = (BOARDS / f"{variant}.toml").read_text()
        path = tmp / f"{variant}.toml"
        path.write_text(child.replace('extends = "pi-relay-hat"', 'extends = "pi-relay-hat.toml"'))
    try:
        yield AssembledBoard(
            assemble(load_board(str(path))), lambda state: setattr(world, "ev_state", state)
        )
    finally:
        world.close()
        rfid.close()
        meter.close()


def _pi_relay_hat_site(request: pytest.FixtureRequest, tmp: Path) -> Iterator[AssembledBoard]:
    yield from _pi_relay_hat(request, tmp, "pi-relay-hat-site")


BOARDS_UNDER_TEST = {
    "bench-sim": _bench_sim,
    "pi-relay-hat": _pi_relay_hat,
    "pi-relay-hat-site": _pi_relay_hat_site,
}


@pytest.fixture(params=BOARDS_UNDER_TEST)
def assembled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AssembledBoard]:
    yield from BOARDS_UNDER_TEST[request.param](request, tmp_path)


def test_the_contactor_is_open_from_assembly_and_follows_its_commands(
    assembled: AssembledBoard,
) -> None:
    contactor = assembled.board.contactor
    assert not contactor.commanded_closed and not contactor.is_closed()
    contactor.close()
    assert contactor.commanded_closed
    assert _eventually(lambda: (contactor.keep_alive(), contactor.is_closed())[1])
    contactor.open()
    assert not contactor.commanded_closed
    assert _eventually(lambda: not contactor.is_closed()), "the mirror confirms the release"


def test_a_phase_contactor_starts_open_and_its_mirror_follows_its_commands(
    assembled: AssembledBoard,
) -> None:
    phase = assembled.board.phase_contactor
    if phase is None:
        pytest.skip("no phase contactor on this board")
    assert not phase.commanded_closed
    assert _eventually(lambda: not phase.is_closed()), "de-energised: one phase"
    changes: list[bool] = []
    phase.on_change(lambda: changes.append(phase.is_closed()))
    phase.close()
    assert _eventually(phase.is_closed)
    phase.open()
    assert _eventually(lambda: not phase.is_closed())
    assert _eventually(lambda: changes[-2:] == [True, False])


def test_the_pilot_is_steady_high_from_assembly_and_reads_the_ev(
    assembled: AssembledBoard,
) -> None:
    pilot = assembled.board.pilot
    assert _eventually(lambda: pilot.sample().state == PilotState.A)
    assert not pilot.sample().pwm_active
    assembled.plug("B")
    assert _eventually(lambda: pilot.sample().state == PilotState.B)
    pilot.set_duty(50.0)
    assert _eventually(lambda: pilot.sample().pwm_active and pilot.sample().diode_ok)
    assembled.plug("C")
    assert _eventually(lambda: pilot.sample().state == PilotState.C)
    pilot.set_steady_high()
    assert _eventually(lambda: not pilot.sample().pwm_active)


def test_the_lock_reports_its_measured_position(assembled: AssembledBoard) -> None:
    lock = assembled.board.lock
    if lock is None:
        pytest.skip("a tethered cable: no lock on this board")
    assembled.plug("B")  # a lock engages on a plug in the socket
    lock.lock()
    assert _eventually(lock.is_locked)
    lock.unlock()
    assert _eventually(lambda: not lock.is_locked())


def test_the_rcd_is_quiet_and_the_thermometer_reads_the_room(
    assembled: AssembledBoard,
) -> None:
    board = assembled.board
    assert not board.rcd.tripped()
    assert 15.0 <= board.thermometer.read_c() <= 35.0
    assert not board.thermometer.alert_active()


def test_every_device_driver_of_the_assembly_table_is_checked_somewhere() -> None:
    on_boards = {
        (kind, section.driver)
        for name in ("bench-sim", "pi-relay-hat", "pi-relay-hat-site")
        for kind, section in load_board(name).devices.items()
    }
    table = {(kind, driver) for kind, drivers in DEVICE_DRIVERS.items() for driver in drivers}
    assert table - on_boards == {
        # the co-processor's, against its MicroPython firmware (test_pilot_coprocessor)
        ("pilot", "coprocessor"),
        ("contactor", "coprocessor"),
        ("rcd", "coprocessor"),
        # the same classes as on pi-relay-hat, in the other sensor's place
        ("outlet_thermometer", "tmp102"),
        ("thermometer", "ntc"),
        # a constant (below)
        ("cable", "fixed"),
    }


@pytest.mark.parametrize("rating", [13.0, 20.0, 32.0, 63.0])
def test_a_fixed_cable_reports_its_rating_and_never_a_fault(rating: float) -> None:
    assert FixedCable(rating).rating_a() == rating
