"""GetLog (OCPP 1.6 Security Whitepaper): the diagnostics or the security log, uploaded to
where the CSMS says, with LogStatusNotification at every step.

One upload at a time; a new request cancels the running one (answered AcceptedCanceled).
Retries follow the request's retries and retryInterval (FileTransfers.upload_with_retries).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pievse.firmware.clock import Clock, parse_ocpp_datetime
from pievse.firmware.diagnostics.diagnostics_log import DiagnosticsLog
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.single_job import SingleJob
from pievse.firmware.transfer.file_transfer import (
    FileTransfers,
    TransferError,
    check_location,
)

log = logging.getLogger(__name__)
DEFAULT_RETRIES = 3
DEFAULT_RETRY_INTERVAL_S = 60
Notify = Callable[[str, int | None], Awaitable[None]]
"""(LogStatusNotification status, requestId)."""


@dataclass(frozen=True)
class LogRequest:
    log_type: str
    """DiagnosticsLog or SecurityLog."""
    request_id: int
    location: str
    retries: int
    retry_interval_s: int
    oldest: datetime | None
    latest: datetime | None

    @classmethod
    def of(
        cls,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None,
        retry_interval: int | None,
    ) -> LogRequest:
        """From GetLog as either OCPP version sends it (the ocpp library's snake_case);
        ValueError for a timestamp that cannot be read."""
        oldest, latest = (
            parse_ocpp_datetime(log[name]) if name in log else None
            for name in ("oldest_timestamp", "latest_timestamp")
        )
        return cls(
            log_type,
            request_id,
            log["remote_location"],
            DEFAULT_RETRIES if retries is None else retries,
            DEFAULT_RETRY_INTERVAL_S if retry_interval is None else retry_interval,
            oldest,
            latest,
        )


class LogUploads:
    def __init__(
        self,
        diagnostics: DiagnosticsLog,
        security_log: SecurityLog,
        clock: Clock,
        charge_point_id: str,
        notify: Notify,
        transfers: FileTransfers,
    ) -> None:
        self._diagnostics = diagnostics
        self._transfers = transfers
        self._security_log = security_log
        self._clock = clock
        self._id = charge_point_id
        self._notify = notify
        self._job = SingleJob("log upload")
        self.request_id: int | None = None

    def filename(self, request: LogRequest) -> str:
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        kind = "security" if request.log_type == "SecurityLog" else "diagnostics"
        return f"{self._id}-{kind}-{request.request_id}-{stamp}.log"

    def accept(self, request: LogRequest) -> tuple[str, str]:
        """(GetLog status, filename). The running upload, if any, is canceled now; the new
        one starts with `begin`, once the CSMS has the answer."""
        name = self.filename(request)
        canceled = self._job.accept(lambda: self._run(request, name), name)
        self.request_id = request.request_id
        return ("AcceptedCanceled" if canceled else "Accepted"), name

    def requested(
        self,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None,
        retry_interval: int | None,
    ) -> tuple[str, str | None]:
        """GetLog in either OCPP version: (status, filename); Rejected for a window whose
        timestamps cannot be read, and then `begin` starts nothing."""
        try:
            request = LogRequest.of(log_type, request_id, log, retries, retry_interval)
        except ValueError:
            return "Rejected", None
        return self.accept(request)

    def begin(self, filename: str | None) -> None:
        """Starts the upload the answer named `filename` (None: Rejected, nothing to start),
        unless another request replaced it."""
        if filename is not None:
            self._job.begin(filename)

    async def notify_current(self) -> None:
        """ExtendedTriggerMessage LogStatusNotification: Uploading with its id, else Idle."""
        uploading = self._job.running
        await self._notify(
            "Uploading" if uploading else "Idle", self.request_id if uploading else None
        )

    def content(self, request: LogRequest) -> bytes:
        if request.log_type == "SecurityLog":
            events = self._security_log.events(request.oldest, request.latest)
            return "".join(event.line() + "\n" for event in events).encode()
        return self._diagnostics.text(request.oldest, request.latest)

    async def _run(self, request: LogRequest, name: str) -> None:
        try:
            await self._upload(request, name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("log upload %d failed", request.request_id)
            await self._notify("UploadFailure", request.request_id)

    async def _upload(self, request: LogRequest, name: str) -> None:
        try:
            check_location(request.location)
        except TransferError as exc:
            log.warning("GetLog %d: %s", request.request_id, exc)
            await self._notify(exc.status, request.request_id)
            return
        await self._notify("Uploading", request.request_id)
        outcome = await self._transfers.upload_with_retries(
            request.location,
            name,
            self.content(request),
            request.retries,
            request.retry_interval_s,
        )
        await self._notify(
            "UploadFailure" if outcome == "TransferFailure" else outcome, request.request_id
        )

    async def stop(self) -> None:
        await self._job.stop()
