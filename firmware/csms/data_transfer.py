"""DataTransfer from the CSMS, in either version: each vendorId the box knows has a handler;
any other is UnknownVendorId (1.6 and 2.0.1 answer alike)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

VENDOR_ID = "pievse"
"""The box's own vendorId (DataTransfer, 1.6 vendorErrorCode)."""
VendorHandler = Callable[[str | None, Any], tuple[str, Any]]
"""(messageId, data) -> (status, data) for DataTransfer of one vendorId."""


class DataTransfers:
    def __init__(self, vendors: Mapping[str, VendorHandler]) -> None:
        self._vendors = dict(vendors)

    def answer(self, vendor_id: str, message_id: str | None, data: Any) -> tuple[str, Any]:
        """(status, data) of the DataTransfer answer."""
        handler = self._vendors.get(vendor_id)
        if handler is None:
            return "UnknownVendorId", None
        return handler(message_id, data)
