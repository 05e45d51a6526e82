"""Hardware PWM through the kernel's sysfs interface (/sys/class/pwm), never software PWM.

On a Raspberry Pi the `pwm-2chan` overlay gives pwmchip0 with channels 0 (GPIO18) and 1
(GPIO19); on a Pi 5 the RP1's PWM is pwmchip2. Times are written in nanoseconds. The PWM keeps
running when the process dies: the wiring and the start-up sequence (steady +12 V first) take
care of that, see docs/hardware.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pievse.hal.ports import HardwareUnavailable

EXPORT_WAIT_S = 2.0
"""udev needs a moment after export to give the new files to the gpio group."""


class SysfsPwmOut:
    def __init__(
        self, chip: int, channel: int, root: str = "/sys/class/pwm", inverted: bool = False
    ) -> None:
        """`inverted`: the output stage inverts (a high GPIO gives -12 V), so the duty is
        written as its complement."""
        chip_dir = Path(root) / f"pwmchip{chip}"
        if not chip_dir.is_dir():
            raise HardwareUnavailable(
                f"no PWM chip {chip_dir}: enable hardware PWM (dtoverlay=pwm-2chan in "
                "/boot/firmware/config.txt, then reboot)"
            )
        count = int((chip_dir / "npwm").read_text().strip())
        if not 0 <= channel < count:
            raise ValueError(f"channel {channel}: {chip_dir} has channels 0..{count - 1}")
        self._dir = chip_dir / f"pwm{channel}"
        self._inverted = inverted
        self._period_ns: int | None = None
        self._duty_ns: int | None = None
        self._enabled = False
        if not self._dir.is_dir():
            self._write(chip_dir / "export", str(channel))
            deadline = time.monotonic() + EXPORT_WAIT_S
            while not _writable(self._dir / "enable"):
                if time.monotonic() > deadline:
                    raise HardwareUnavailable(
                        f"{self._dir} did not appear after export: is the service user in "
                        "the gpio group (udev rule for /sys/class/pwm)?"
                    )
                time.sleep(0.02)

    def set(self, frequency_hz: float, duty_fraction: float) -> None:
        if not 0.0 <= duty_fraction <= 1.0:
            raise ValueError(f"duty fraction must be 0..1, got {duty_fraction}")
        if not 1.0 <= frequency_hz <= 100_000.0:
            raise ValueError(f"frequency must be 1..100000 Hz, got {frequency_hz}")
        period = round(1e9 / frequency_hz)
        fraction = 1.0 - duty_fraction if self._inverted else duty_fraction
        duty = round(period * fraction)
        if period != self._period_ns:
            # the kernel refuses a duty longer than the period at every step
            if self._duty_ns is not None and self._duty_ns > period:
                self._write(self._dir / "duty_cycle", "0")
                self._duty_ns = 0
            self._write(self._dir / "period", str(period))
            self._period_ns = period
        if duty != self._duty_ns:
            self._write(self._dir / "duty_cycle", str(duty))
            self._duty_ns = duty
        if not self._enabled:
            self._write(self._dir / "enable", "1")
            self._enabled = True

    @staticmethod
    def _write(path: Path, value: str) -> None:
        try:
            path.write_text(value)
        except OSError as exc:
            raise HardwareUnavailable(f"cannot write {value} to {path}: {exc}") from exc


def _writable(path: Path) -> bool:
    return path.exists() and os.access(path, os.W_OK)
