"""`pievse flash-pilot` with the real mpremote against the MicroPython unix port's raw REPL
on a pty line, and the flashed firmware booting and answering the host driver."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pievse.board.pilot_flash import (
    FIRMWARE_DIR,
    MAIN,
    MODULES,
    PILOT_FIRMWARE_VERSION,
    flash_pilot,
)
from pievse.firmware.cli.commands import main
from pievse.hal.devices.pilot_coprocessor import (
    CoprocessorContactor,
    CoprocessorPilot,
    PilotCoprocessor,
)
from pievse.hal.interfaces import PilotState
from pievse.hal.sim.serial_wire import SerialWire
from tests.rigs.micropython_port import FAKES, MICROPYTHON, running_pico


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`main` installs the CLI's stderr handler on the root logger; in-process, it must not
    outlive the test (later tests would log into this test's closed capture)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


MPREMOTE = (sys.executable, "-m", "mpremote")
ENABLE_PIN = str(runpy.run_path(str(FIRMWARE_DIR / "pilot_config.py"))["CONTACTOR_ENABLE_PIN"])


@contextlib.contextmanager
def blank_board(flash_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A MicroPython REPL on a serial line, its filesystem in `flash_dir`."""
    wire = SerialWire()
    line = os.open(wire.b_path, os.O_RDWR | os.O_NOCTTY)
    process = subprocess.Popen(
        [str(MICROPYTHON)],
        stdin=line,
        stdout=line,
        stderr=line,
        cwd=flash_dir,
        env={**os.environ, "MICROPYPATH": f":{FAKES}"},
    )
    try:
        yield wire.a_path, process
    finally:
        process.kill()
        process.wait(timeout=10)
        os.close(line)
        wire.close()


def test_flash_copies_verifies_and_resets_into_the_new_firmware(tmp_path: Path) -> None:
    flash_dir = tmp_path / "flash"
    flash_dir.mkdir()
    (flash_dir / "main.py").write_text("print('old firmware')\n")
    with blank_board(flash_dir) as (port, board):
        written = flash_pilot(port, mpremote=MPREMOTE)
        assert board.wait(timeout=10) == 0, "machine.reset() ended the REPL"
    assert written == [*MODULES, "main.py"], "main.py last: a cut flash boots nothing"
    for name, source in {**MODULES, "main.py": MAIN}.items():
        assert (flash_dir / name).read_bytes() == source.read_bytes(), name
    with running_pico(flash_dir, main=flash_dir / "main.py", path=f":{FAKES}") as pico:
        co = PilotCoprocessor(pico.wire.a_path, handshake_s=5.0)
        try:
            assert co.firmware_version == PILOT_FIRMWARE_VERSION
        finally:
            co.close()


def test_the_command_line_reports_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with blank_board(tmp_path) as (port, _board):
        assert main(["flash-pilot", port, "--no-reset"]) == 0
    out = capsys.readouterr().out
    assert f"pilot firmware {PILOT_FIRMWARE_VERSION} on {port}" in out
    assert (tmp_path / "main.py").read_bytes() == MAIN.read_bytes()


def test_a_port_without_micropython_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wire = SerialWire()  # nothing answers on the far end
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("pievse.board.pilot_flash.MPREMOTE_TIMEOUT_S", 3.0)
            assert main(["flash-pilot", wire.a_path]) == 2
    finally:
        wire.close()
    err = capsys.readouterr().err
    assert err.startswith("pievse flash-pilot: error: ")
    assert wire.a_path in err


async def test_ctrl_c_stops_the_firmware_in_its_safe_state(tmp_path: Path) -> None:
    """What mpremote's Ctrl-C does to a charging co-processor: contactor-enable off, steady
    +12 V, and the REPL served (the watchdog fed from a timer)."""
    with running_pico(tmp_path) as pico:
        co = PilotCoprocessor(pico.wire.a_path, handshake_s=5.0)
        try:
            pilot, contactor = CoprocessorPilot(co), CoprocessorContactor(co)
            co.watch(lambda: None)
            pico.ev("C")
            pilot.set_duty(50.0)
            deadline = time.monotonic() + 5
            while not contactor.is_closed():
                assert time.monotonic() < deadline, "never closed"
                contactor.keep_alive()
                if pilot.sample().state == PilotState.C and pilot.sample().pwm_active:
                    contactor.close()
                await asyncio.sleep(0.05)
            assert pico.outputs()[ENABLE_PIN] == 1
            pico.process.send_signal(signal.SIGINT)
            output, _ = pico.process.communicate(timeout=10)
        finally:
            co.close()
    assert "pilot firmware stopped: contactor open, pilot +12 V" in output
    outputs = pico.outputs()
    assert outputs[ENABLE_PIN] == 0
    assert outputs["pwm"] == 65535, "steady +12 V: nothing offered"
