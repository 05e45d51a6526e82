"""The controller's own log as files in the data directory, for GetLog DiagnosticsLog and
GetDiagnostics: the journal is not readable by the service user, and an upload needs a
file. Rotating (a few MB at most, a Pi's SD card is small); every record starts with its
UTC time, so a time window picks records, continuation lines (tracebacks) included.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from pievse.firmware.persistence.private_files import open_private, private_directory, restrict

FILE_NAME = "pievse.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Every file it opens (the first and each after a rotation) is the owner's only: the
    log holds id tags."""

    def _open(self) -> io.TextIOWrapper:
        # text mode: open() makes a TextIOWrapper (typeshed cannot tell from a str mode)
        return cast(
            io.TextIOWrapper,
            open(self.baseFilename, self.mode, encoding=self.encoding, opener=open_private),
        )


class DiagnosticsLog:
    def __init__(self, directory: Path) -> None:
        private_directory(directory)
        self.path = directory / FILE_NAME
        self._handler: logging.Handler | None = None

    def attach(self) -> None:
        for path in self.files():  # an earlier release wrote them 0644
            restrict(path)
        handler = _PrivateRotatingFile(
            self.path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt=TIME_FORMAT
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
        handler.setLevel(logging.INFO)
        logging.getLogger().addHandler(handler)
        self._handler = handler

    def detach(self) -> None:
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def files(self) -> list[Path]:
        """Oldest first."""
        rotated = [self.path.with_name(f"{FILE_NAME}.{n}") for n in range(BACKUPS, 0, -1)]
        return [p for p in (*rotated, self.path) if p.exists()]

    def text(self, oldest: datetime | None = None, latest: datetime | None = None) -> bytes:
        if self._handler is not None:
            self._handler.flush()
        kept: list[str] = []
        keep = True
        for path in self.files():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                moment = _record_time(line)
                if moment is not None:
                    keep = (oldest is None or moment >= oldest) and (
                        latest is None or moment <= latest
                    )
                if keep:
                    kept.append(line)
        return ("\n".join(kept) + "\n").encode() if kept else b""


def _record_time(line: str) -> datetime | None:
    try:
        return datetime.strptime(line[:20], TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
