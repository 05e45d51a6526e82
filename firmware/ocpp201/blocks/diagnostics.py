"""Block N, diagnostics (N01): GetLog of the diagnostics or the security log, uploaded as on
1.6, with LogStatusNotification on the way."""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.rpc.routes import after, on


class LogAnswer(Protocol):
    """What the GetLog `after` step reads of its answer: the file it announced."""

    @property
    def filename(self) -> str | None: ...


class DiagnosticsBlock:
    def __init__(self, uploads: LogUploads) -> None:
        self._uploads = uploads

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
        status, filename = self._uploads.requested(
            log_type, request_id, log, retries, retry_interval
        )
        return call_result.GetLog(status=status, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, response: LogAnswer, **_: Any) -> None:
        self._uploads.begin(response.filename)
