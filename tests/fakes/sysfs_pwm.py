"""A /sys/class/pwm tree in a temporary directory, with a stand-in for the kernel's half:
writing a channel number to `export` makes its pwmN directory appear."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class FakePwmChip:
    def __init__(self, root: Path, chip: int = 0, channels: int = 2) -> None:
        self.root = root
        self.dir = root / f"pwmchip{chip}"
        self.dir.mkdir(parents=True)
        (self.dir / "npwm").write_text(f"{channels}\n")
        (self.dir / "export").write_text("")
        self.exported: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._kernel, daemon=True)
        self._thread.start()

    def _kernel(self) -> None:
        while not self._stop.wait(0.005):
            text = (self.dir / "export").read_text().strip()
            if text.isdigit() and int(text) not in self.exported:
                channel = int(text)
                # the kernel's files appear whole, at once
                staging = self.dir / f".pwm{channel}"
                staging.mkdir()
                for name in ("period", "duty_cycle", "enable"):
                    (staging / name).write_text("0\n")
                (staging / "polarity").write_text("normal\n")
                staging.rename(self.dir / f"pwm{channel}")
                self.exported.append(channel)

    def value(self, channel: int, name: str) -> int:
        """A sysfs write is atomic, a file's rewrite is not: a read caught between truncation
        and write is empty, and one spanning a rewrite joins old and new text, so both are
        read again. One read call keeps the second case rare."""
        path = self.dir / f"pwm{channel}" / name
        while True:
            fd = os.open(path, os.O_RDONLY)
            try:
                text = os.read(fd, 64).decode()
            finally:
                os.close(fd)
            if text.strip().isdigit():
                return int(text)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def pwm_chip(tmp_path: Path) -> Iterator[FakePwmChip]:
    chip = FakePwmChip(tmp_path / "sys-class-pwm")
    yield chip
    chip.close()
