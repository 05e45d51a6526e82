"""What is known about an id tag: its status, expiry and parent (OCPP 1.6 IdTagInfo).

Pure, so the controller can decide starts, stops and reservations with it without knowing
where the answer came from (the CSMS, the local list, the cache, or a standalone box).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pievse.firmware.clock import parse_ocpp_datetime

ACCEPTED = "Accepted"
CONCURRENT_TX = "ConcurrentTx"
"""The tag is busy in another transaction: a fact about that moment, not about the tag."""


@dataclass(frozen=True)
class IdTagInfo:
    status: str
    expiry: datetime | None = None
    parent_id_tag: str | None = None

    @classmethod
    def from_wire(cls, info: dict[str, Any]) -> IdTagInfo:
        """From an idTagInfo as the CSMS sends it (camelCase); ValueError if malformed."""
        expiry = info.get("expiryDate")
        return cls(
            info["status"],
            parse_ocpp_datetime(expiry) if expiry else None,
            info.get("parentIdTag") or None,
        )

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    def at(self, now: datetime) -> IdTagInfo:
        """As it stands at `now`: an Accepted tag past its expiry date is Expired."""
        if self.accepted and self.expiry is not None and self.expiry <= now:
            return IdTagInfo("Expired", self.expiry, self.parent_id_tag)
        return self

    def shares_parent_with(self, parent_id_tag: str | None) -> bool:
        """Whether this tag belongs to the same group (OCPP 1.6 3.5: a group's cards may
        stop each other's transactions and use each other's reservations)."""
        return self.parent_id_tag is not None and self.parent_id_tag == parent_id_tag


ANYONE = IdTagInfo(ACCEPTED)
"""A box without a CSMS lets every tag charge."""
