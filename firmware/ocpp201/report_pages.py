"""2.0.1's paged reports (NotifyReport, ReportChargingProfiles, NotifyCustomerInformation):
the pages of one request go out in order under its requestId, every page but the last with
`tbc` so the CSMS knows more follow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pievse.firmware.csms.outbox import Outbox

Item = TypeVar("Item")


def chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    """`items` in order, `size` to a page (the last one shorter)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def put_pages(
    outbox: Outbox,
    action: str,
    request_id: int,
    pages: list[dict[str, Any]],
    generated_at: str | None = None,
) -> None:
    """`generated_at`: for reports that carry it, with a seqNo per page."""
    for number, body in enumerate(pages):
        payload: dict[str, Any] = {"requestId": request_id, **body}
        if generated_at is not None:
            payload |= {"generatedAt": generated_at, "seqNo": number}
        if number < len(pages) - 1:
            payload["tbc"] = True
        outbox.put(action, payload)
