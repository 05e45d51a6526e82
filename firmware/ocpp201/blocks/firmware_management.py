"""Block L, firmware management (L01-L03): UpdateFirmware with signed firmware, on the same
A/B releases, verification and rollback as 1.6's SignedUpdateFirmware; its progress goes out
as 2.0.1 FirmwareStatusNotification with the requestId."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.updates.signed_update_request import SignedUpdateRequests


class FirmwareBlock:
    def __init__(self, requests: SignedUpdateRequests) -> None:
        self._requests = requests

    @on(Action.update_firmware)
    def on_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> Any:
        status = self._requests.answer(request_id, firmware, retries, retry_interval)
        return call_result.UpdateFirmware(status=status)

    @after(Action.update_firmware)
    def after_update_firmware(self, response: StatusAnswer, **request: Any) -> None:
        self._requests.start(response.status, **request)
