"""GetDiagnostics (OCPP 1.6 Firmware Management): the controller's log and the box's state
(what the local API shows, the configuration keys but the write-only ones, the recent
sessions and the security log) in one tar.gz, uploaded where the CSMS says, with
DiagnosticsStatusNotification Uploading, then Uploaded or UploadFailed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tarfile
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pievse.firmware.clock import Clock
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.single_job import SingleJob
from pievse.firmware.transfer.file_transfer import FileTransfers

log = logging.getLogger(__name__)
Notify = Callable[[str], object]


def _member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


class DiagnosticsUploads:
    def __init__(
        self,
        diagnostics: DiagnosticsLog,
        state: Callable[[], dict[str, Any]],
        clock: Clock,
        charge_point_id: str,
        notify: Notify,
        transfers: FileTransfers,
    ) -> None:
        self._diagnostics = diagnostics
        self._transfers = transfers
        self._state = state
        self._clock = clock
        self._id = charge_point_id
        self._notify = notify
        self._job = SingleJob("diagnostics upload")
        self.status = "Idle"

    def archive(self, start: datetime | None, stop: datetime | None) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            _member(archive, "pievse.log", self._diagnostics.text(start, stop))
            state = json.dumps(self._state(), indent=1, default=str).encode()
            _member(archive, "state.json", state)
        return buffer.getvalue()

    def accept(
        self,
        location: str,
        retries: int,
        retry_interval_s: int,
        start: datetime | None,
        stop: datetime | None,
    ) -> str:
        """The file name; the upload starts with `begin`, after the answer."""
        name = f"{self._id}-diagnostics-{self._clock.now():%Y%m%dT%H%M%SZ}.tar.gz"
        self._job.accept(
            lambda: self._run(location, name, retries, retry_interval_s, start, stop), name
        )
        return name

    def begin(self, name: str) -> None:
        """Starts the upload the answer named `name`, unless another request replaced it."""
        self._job.begin(name)

    async def _run(
        self,
        location: str,
        name: str,
        retries: int,
        retry_interval_s: int,
        start: datetime | None,
        stop: datetime | None,
    ) -> None:
        self._report("Uploading")
        try:
            data = await asyncio.to_thread(self.archive, start, stop)
            outcome = await self._transfers.upload_with_retries(
                location, name, data, retries, retry_interval_s
            )
        except Exception:
            log.exception("diagnostics upload failed")
            outcome = "TransferFailure"
        self._report("Uploaded" if outcome == "Uploaded" else "UploadFailed")
        self.status = "Idle"

    def _report(self, status: str) -> None:
        self.status = status
        self._notify(status)

    async def stop(self) -> None:
        await self._job.stop()
