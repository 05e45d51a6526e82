"""An RS485 line between two pseudo-terminals, as fast as a real one at a given baud rate.

Two programs that each open a serial device by path need two pty pairs joined at their
master ends (what socat does). The join is also where the wire is modelled: bytes cross at
the character rate the baud rate and frame format allow, the line is half duplex, and a
turnaround waits the 3.5-character silence Modbus RTU requires between frames. Benchmarks
then measure real polls against the wire limit, and tests get a serial port without
hardware.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty

SILENT_CHARS = 3.5


def char_bits(parity: str = "N", stop_bits: int = 1) -> int:
    """Bits one byte takes on the wire: start, 8 data, optional parity, stop bits."""
    return 1 + 8 + (0 if parity == "N" else 1) + stop_bits


class SerialWire:
    """Two pty ends, `a_path` and `b_path`, joined by a paced half-duplex line."""

    def __init__(self, baudrate: int | None = None, parity: str = "N", stop_bits: int = 1) -> None:
        self._char_s = char_bits(parity, stop_bits) / baudrate if baudrate else 0.0
        self._masters: list[int] = []
        self._slaves: list[int] = []
        paths = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            self._masters.append(master)
            self._slaves.append(slave)
            paths.append(os.ttyname(slave))
        self.a_path, self.b_path = paths
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="serial-wire", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        line_free_at = 0.0
        last_sender: int | None = None
        while not self._stopping:
            ready, _, _ = select.select([*self._masters, self._wake_r], [], [])
            for fd in ready:
                if fd == self._wake_r:
                    return
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                sender = self._masters.index(fd)
                receiver = self._masters[1 - sender]
                if not self._char_s:
                    os.write(receiver, data)
                    continue
                start = max(time.monotonic(), line_free_at)
                if last_sender is not None and sender != last_sender:
                    start = max(start, line_free_at + SILENT_CHARS * self._char_s)
                last_sender = sender
                for i in range(len(data)):
                    due = start + (i + 1) * self._char_s
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    os.write(receiver, data[i : i + 1])
                line_free_at = start + len(data) * self._char_s

    def close(self) -> None:
        self._stopping = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2)
        for fd in (*self._masters, *self._slaves, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
