"""Block P, DataTransfer (P01): the vendors the box knows answer as they do on 1.6."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.csms.data_transfer import DataTransfers
from pievse.firmware.rpc.routes import on


class DataTransferBlock:
    def __init__(self, transfers: DataTransfers) -> None:
        self._transfers = transfers

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        status, answer = self._transfers.answer(vendor_id, message_id, data)
        return call_result.DataTransfer(status=status, data=answer)
