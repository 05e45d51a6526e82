"""Block P, DataTransfer (P01): vendor "pievse", messageId "Status" gives the local API's
status document, as it does on 1.6."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

VendorHandler = Callable[[str | None, Any], tuple[str, Any]]
"""(messageId, data) -> (status, data) for DataTransfer of one vendorId."""


class DataTransferBlock:
    def __init__(self, vendors: Mapping[str, VendorHandler]) -> None:
        self._vendors = dict(vendors)

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        handler = self._vendors.get(vendor_id)
        if handler is None:
            return call_result.DataTransfer(status="UnknownVendorId")
        status, answer = handler(message_id, data)
        return call_result.DataTransfer(status=status, data=answer)
