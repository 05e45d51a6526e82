"""Block L, firmware management (L01-L03): UpdateFirmware with signed firmware, on the same
A/B releases, verification and rollback as 1.6's SignedUpdateFirmware; its progress goes out
as 2.0.1 FirmwareStatusNotification with the requestId."""

from __future__ import annotations

from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.updates.firmware_updates import FirmwareUpdates, Job
from pievse.firmware.updates.signed_update_request import signed_update


class FirmwareBlock:
    def __init__(
        self, updates: FirmwareUpdates, default_retries: int, default_retry_interval_s: int
    ) -> None:
        self._updates = updates
        self._retries = default_retries
        self._interval = default_retry_interval_s
        self._job: Job | None = None

    @on(Action.update_firmware)
    def on_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> Any:
        status, self._job = signed_update(
            self._updates,
            request_id,
            firmware,
            self._retries if retries is None else retries,
            self._interval if retry_interval is None else retry_interval,
        )
        return call_result.UpdateFirmware(status=status)

    @after(Action.update_firmware)
    def after_update_firmware(self, **_: Any) -> None:
        if self._job is not None:
            self._updates.update(self._job)
            self._job = None
