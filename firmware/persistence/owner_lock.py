"""One controller per data directory. A second `pievse run` on it, or a `pievse commission`
that missed the running box's API address and started a controller of its own, would drive
the same contactor and pilot as the box that runs and write the same database. The
controller holds an advisory lock (flock) on a file in the directory for its whole life;
the kernel drops it when the process ends, however it ends, and an exec (a restart into
another release) closes it, so the next start takes it again."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pievse.firmware.persistence.private_files import FILE_MODE
from pievse.firmware.persistence.schema import StoreError

LOCK_NAME = "pievse.lock"


class DataDirectoryInUse(StoreError):
    pass


class OwnerLock:
    """Taken on construction, or DataDirectoryInUse naming the process that holds it."""

    def __init__(self, directory: Path) -> None:
        path = directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DataDirectoryInUse(
                f"another pievse (pid {holder}) runs on {directory}; `pievse commission` "
                "asks it at its API address ([api] listen or --api)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
