"""The pilot co-processor firmware in the real MicroPython unix port (from PyPI, installed
beside this venv's python), with the fake `machine` of tests/micropython/fakes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pievse.hal.sim.serial_wire import SerialWire
from tests.rigs.paths import ROOT

MICROPYTHON = Path(sys.executable).with_name("micropython")
FAKES = ROOT / "tests/micropython/fakes"
SOURCES = ":".join(str(p) for p in (FAKES, ROOT / "board/pilot_firmware", ROOT / "hal"))
"""The firmware from the source tree; a leading ":" (the current directory) runs a flashed
copy instead."""


def micropython(
    script: Path | str, *args: str, path: str = SOURCES, cwd: Path | None = None, **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MICROPYTHON), str(script), *args],
        env={**os.environ, "MICROPYPATH": path, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
    )


@dataclass
class Pico:
    """The firmware's main.py running in MicroPython on one end of a serial line."""

    wire: SerialWire
    state_file: Path
    outputs_file: Path
    process: subprocess.Popen[str]

    def ev(self, *words: str) -> None:
        self.state_file.write_text(" ".join(words))

    def outputs(self) -> dict[str, int]:
        """The pins and PWM duty as the fake machine last wrote them."""
        words = self.outputs_file.read_text().split()
        return {key: int(value) for key, value in (word.split("=") for word in words)}


@contextlib.contextmanager
def running_pico(workdir: Path, main: Path | None = None, path: str = SOURCES) -> Iterator[Pico]:
    """Its UART is the far end of a fresh SerialWire; the host opens `wire.a_path`."""
    wire = SerialWire()
    state_file = workdir / "ev"
    state_file.write_text("A")
    outputs_file = workdir / "outputs"
    process = micropython(
        main or ROOT / "board/pilot_firmware/main.py",
        path=path,
        cwd=workdir,
        PILOT_SIM_UART=wire.b_path,
        PILOT_SIM_STATE=str(state_file),
        PILOT_SIM_OUTPUTS=str(outputs_file),
    )
    try:
        yield Pico(wire, state_file, outputs_file, process)
    finally:
        process.kill()
        output, _ = process.communicate(timeout=10)
        wire.close()
        assert "Traceback" not in output, output
