"""The cable lock through a session: locked while it runs, released when it ends or, if so
configured, when the EV end of the cable is unplugged; a lock that does not confirm is a
fault (the contactor must not close on an unlocked socket)."""

from __future__ import annotations

from pievse.firmware.clock import elapsed
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import ConnectorLock

LOCK_CONFIRM_S = 1.0


class LockDriver:
    def __init__(self, lock: ConnectorLock | None, supervisor: SafetySupervisor) -> None:
        self._lock = lock
        self._supervisor = supervisor
        self._commanded_at: float | None = None

    def drive(self, want: bool, unplugged: bool, now: float) -> bool:
        """Returns whether the connector is locked (always, for a box without a lock)."""
        lock = self._lock
        if lock is None:
            return True
        if not want or Fault.LOCK in self._supervisor.faults():
            lock.unlock()
            self._commanded_at = None
            return False
        lock.lock()
        if lock.is_locked():
            self._commanded_at = None
            return True
        if self._commanded_at is None:
            self._commanded_at = now
        elif not unplugged and elapsed(self._commanded_at, now, LOCK_CONFIRM_S):
            self._supervisor.trip(
                Fault.LOCK, f"connector lock not confirmed {LOCK_CONFIRM_S:.0f} s after locking"
            )
        return False

    def unlock(self) -> bool:
        """UnlockConnector; False when there is no lock."""
        if self._lock is None:
            return False
        self._lock.unlock()
        return True

    def locked(self) -> bool | None:
        return None if self._lock is None else self._lock.is_locked()
