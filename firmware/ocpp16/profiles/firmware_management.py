"""What the CSMS may ask under the OCPP 1.6 Firmware Management profile (UpdateFirmware,
GetDiagnostics) and the Security Whitepaper's SignedUpdateFirmware. The work happens in
FirmwareUpdates and DiagnosticsUploads; these handlers parse, answer, and start it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.diagnostics.diagnostics_upload import DiagnosticsUploads
from pievse.firmware.rpc.frames import FrameError
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.updates.firmware_updates import FirmwareUpdates
from pievse.firmware.updates.signed_update_request import SignedUpdateRequests
from pievse.firmware.updates.update_job import Job

log = logging.getLogger(__name__)


def _moment(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_ocpp_datetime(text)
    except ValueError as exc:
        raise FrameError("PropertyConstraintViolation", f"{field}: {exc}") from None


class DiagnosticsAnswer(Protocol):
    """What the GetDiagnostics `after` step reads of its answer: the file it announced."""

    @property
    def file_name(self) -> str: ...


class FirmwareProfile:
    def __init__(
        self,
        updates: FirmwareUpdates,
        diagnostics: DiagnosticsUploads,
        default_retries: int,
        default_retry_interval_s: int,
    ) -> None:
        self._updates = updates
        self._diagnostics = diagnostics
        self._retries = default_retries
        self._interval = default_retry_interval_s
        self._signed = SignedUpdateRequests(updates, default_retries, default_retry_interval_s)

    @on(Action.update_firmware)
    def on_update_firmware(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> Any:
        _moment(retrieve_date, "retrieveDate")  # a date that cannot be read: a CALLERROR
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(
        self,
        location: str,
        retrieve_date: str,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> None:
        """This request's update (the answer checked its date)."""
        moment = _moment(retrieve_date, "retrieveDate")
        assert moment is not None
        self._updates.update(
            Job(
                location,
                moment,
                self._retries if retries is None else retries,
                self._interval if retry_interval is None else retry_interval,
            )
        )

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> Any:
        status = self._signed.answer(request_id, firmware, retries, retry_interval)
        return call_result.SignedUpdateFirmware(status=status)

    @after(Action.signed_update_firmware)
    def after_signed_update_firmware(self, response: StatusAnswer, **request: Any) -> None:
        self._signed.start(response.status, **request)

    @on(Action.get_diagnostics)
    def on_get_diagnostics(
        self,
        location: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
    ) -> Any:
        name = self._diagnostics.accept(
            location,
            self._retries if retries is None else retries,
            self._interval if retry_interval is None else retry_interval,
            _moment(start_time, "startTime"),
            _moment(stop_time, "stopTime"),
        )
        return call_result.GetDiagnostics(file_name=name)

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, response: DiagnosticsAnswer, **_: Any) -> None:
        self._diagnostics.begin(response.file_name)
