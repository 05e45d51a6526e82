"""sd_notify without a library: READY=1 once the box runs, WATCHDOG=1 from the control
loop, STOPPING=1 on the way out. systemd names its socket in NOTIFY_SOCKET (a path, or "@"
for the abstract namespace) and the watchdog period in WATCHDOG_USEC; without them (not under
systemd) every call does nothing.

The watchdog ping comes from the control loop's step, not a timer of its own: a loop that
hangs stops the pings, and systemd restarts the service (WatchdogSec in the unit).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self._ping_every_s = int(usec) / 2e6 if watched else None
        self._last_ping = 0.0

    def _send(self, message: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self._address)
                sock.sendall(message.encode())
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", message, exc)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def watchdog(self) -> None:
        """Called every control step; sends at most every half watchdog period."""
        if self._ping_every_s is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self._ping_every_s:
            self._last_ping = now
            self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def status(self, text: str) -> None:
        """What `systemctl status` shows, and nothing else changes: a restart in place
        (exec, same PID) must not say STOPPING=1, or systemd waits for an exit that never
        comes and kills the new process after TimeoutStopSec."""
        self._send(f"STATUS={text}")
