"""Block N, diagnostics (N01): GetLog of the diagnostics or the security log, uploaded as on
1.6, with LogStatusNotification on the way."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.diagnostics.log_uploads import LogRequest, LogUploads


class DiagnosticsBlock:
    def __init__(self, uploads: LogUploads) -> None:
        self._uploads = uploads
        self._accepted = False

    @on(Action.get_log)
    def on_get_log(
        self,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> Any:
        self._accepted = False
        try:
            request = LogRequest.of(log_type, request_id, log, retries, retry_interval)
        except ValueError:
            return call_result.GetLog(status="Rejected")
        status, filename = self._uploads.accept(request)
        self._accepted = True
        return call_result.GetLog(status=status, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, **_: Any) -> None:
        if self._accepted:
            self._uploads.begin()
