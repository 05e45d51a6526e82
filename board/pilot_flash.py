"""`pievse flash-pilot PORT`: the co-processor firmware onto an RP2040 running MicroPython.

mpremote does the talking (raw REPL over the USB serial port). The order keeps a cut cable
or a pulled plug from leaving a mix of old and new files that would run: `main.py` is removed
first (so nothing boots), the modules are copied and each file's SHA-256 is read back from the
board and compared, and only then `main.py` is written and the board reset into it. A board
without `main.py` does nothing at power-up, and its contactor-enable pin is pulled down.

`resume` keeps mpremote from soft-resetting: the running firmware is interrupted (Ctrl-C ends
it in its safe state, see main.py), and the unix port used in tests would exit on a soft
reset.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent / "pilot_firmware"
PROTOCOL = Path(__file__).resolve().parents[1] / "hal" / "pilot_protocol.py"
MODULES = {
    "pilot_protocol.py": PROTOCOL,
    "pilot_config.py": FIRMWARE_DIR / "pilot_config.py",
    "pilot_logic.py": FIRMWARE_DIR / "pilot_logic.py",
}
MAIN = FIRMWARE_DIR / "main.py"
PILOT_FIRMWARE_VERSION = next(
    line.split('"')[1]
    for line in (FIRMWARE_DIR / "pilot_config.py").read_text().splitlines()
    if line.startswith("FIRMWARE_VERSION")
)
"""Read from the source rather than imported: pilot_config is MicroPython's module."""
MPREMOTE_TIMEOUT_S = 60.0
_REMOVE_MAIN = "import os\ntry:\n os.remove('main.py')\nexcept OSError:\n pass"
_DIGESTS = (
    "import hashlib, binascii\n"
    "for n in ({names}):\n"
    " print('sha256', n, binascii.hexlify(hashlib.sha256(open(n, 'rb').read()).digest()).decode())"
)


class FlashError(RuntimeError):
    pass


def _mpremote(command: Sequence[str], port: str, *args: str) -> str:
    try:
        done = subprocess.run(
            [*command, "connect", port, "resume", *args],
            capture_output=True,
            text=True,
            timeout=MPREMOTE_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise FlashError(f"mpremote not found ({exc}): pip install 'pievse[pi]'") from exc
    except subprocess.TimeoutExpired as exc:
        raise FlashError(
            f"no answer from {port} within {MPREMOTE_TIMEOUT_S:.0f} s: is it an RP2040 "
            "running MicroPython, and is no other program holding the port?"
        ) from exc
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise FlashError(f"mpremote on {port} failed: {why[-1] if why else done.returncode}")
    return done.stdout


def _digests(path_by_name: dict[str, Path]) -> dict[str, str]:
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in path_by_name.items()
    }


def _verify(command: Sequence[str], port: str, path_by_name: dict[str, Path]) -> None:
    names = ", ".join(repr(name) for name in path_by_name) + ","
    output = _mpremote(command, port, "exec", _DIGESTS.format(names=names))
    on_board = {
        words[1]: words[2]
        for words in (line.split() for line in output.splitlines())
        if len(words) == 3 and words[0] == "sha256"
    }
    for name, digest in _digests(path_by_name).items():
        if on_board.get(name) != digest:
            raise FlashError(f"{name} on {port} does not match after copying; flash again")


def flash_pilot(
    port: str,
    reset: bool = True,
    mpremote: Sequence[str] = (sys.executable, "-m", "mpremote"),
) -> list[str]:
    """Returns the names of the files written, in the order they were written."""
    copies: list[str] = ["exec", _REMOVE_MAIN]
    for name, path in MODULES.items():
        copies += ["+", "fs", "cp", str(path), f":{name}"]
    _mpremote(mpremote, port, *copies)
    _verify(mpremote, port, MODULES)
    _mpremote(mpremote, port, "fs", "cp", str(MAIN), ":main.py")
    _verify(mpremote, port, {"main.py": MAIN})
    if reset:
        _mpremote(mpremote, port, "reset")
    return [*MODULES, "main.py"]
