"""Files and directories only the service user reads: the data directory holds id tags,
keys and the API token, the log holds id tags. Their modes are set where they are created,
whatever umask the process was started with (systemd gives 0077, a shell usually 0022)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """Creates `path` (and missing parents) owner-only. An existing one is left as it is
    (it may be anything a flag names, /tmp too), but one that others may read is logged."""
    if not path.is_dir():
        path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
    elif path.stat().st_mode & 0o007:
        log.warning(
            "%s is open to other users (mode %o): chmod o-rwx %s",
            path,
            path.stat().st_mode & 0o777,
            path,
        )
    return path


def restrict(path: Path, keep: int = FILE_MODE) -> None:
    """Clears the mode bits of `path` outside `keep`; a file someone else owns is left as
    it is (the check is then theirs)."""
    try:
        current = path.stat().st_mode & 0o7777
        if current & ~keep:
            os.chmod(path, current & keep)
    except OSError:
        pass


def write_private_file(path: Path, text: str) -> None:
    """Writes `text` to `path` with mode 0600 from the first byte: a new file beside it,
    renamed over (so a link planted at `path` is replaced, never followed)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)


def open_private(path: str, flags: int) -> int:
    """An `opener` for open(): a new file is created 0600 (an existing one is made so)."""
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd
