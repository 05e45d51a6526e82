"""What the CSMS did, as a fleet's boxes saw it: every request per action (answers, their
latency, CALLERRORs by code, timeouts, connections lost), every CALL the CSMS sent, the
BootNotification and Authorize answers by status, and the reconnects. One `FleetTraffic`
serves every box of a process through a small per-box `BoxTraffic` that knows whether its
box had connected before."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pievse.firmware.fleet.latency_histogram import LatencyHistogram

CALLERROR_CODES = frozenset(
    {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "FormatViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "OccurrenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
        "MessageTypeNotSupported",
        "RpcFrameworkError",
        "invalid",
    }
)
"""The codes OCPP-J 1.6 and 2.0.1 define; anything else a CSMS sends counts as "other", so
a CSMS cannot grow the report without bound; "invalid" is an answer that broke the schema."""


@dataclass
class ActionCounts:
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """Of the requests the CSMS answered (a result or a CALLERROR)."""
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """CALLERRORs by code, and "invalid" for an answer that broke the schema."""
    timeouts: int = 0
    lost: int = 0

    @property
    def count(self) -> int:
        return self.ok + sum(self.errors.values()) + self.timeouts + self.lost

    def merge(self, other: ActionCounts) -> None:
        self.latency.merge(other.latency)
        self.ok += other.ok
        self.errors.update(other.errors)
        self.timeouts += other.timeouts
        self.lost += other.lost


@dataclass
class FleetTraffic:
    sent: dict[str, ActionCounts] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    boots: Counter[str] = field(default_factory=Counter)
    authorizations: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    reconnects: int = 0

    def answered(
        self, action: str, latency_s: float, outcome: str, payload: dict[str, Any] | None
    ) -> None:
        counts = self.sent.get(action)
        if counts is None:
            counts = self.sent[action] = ActionCounts()
        if outcome == "timeout":
            counts.timeouts += 1
            return
        if outcome == "lost":
            counts.lost += 1
            return
        counts.latency.add(latency_s)
        if outcome != "ok":
            counts.errors[outcome if outcome in CALLERROR_CODES else "other"] += 1
            return
        counts.ok += 1
        if payload is None:
            return
        if action == "BootNotification":
            self.boots[str(payload.get("status"))] += 1
        elif action == "Authorize":
            info = payload.get("idTagInfo") or payload.get("idTokenInfo") or {}
            self.authorizations[str(info.get("status"))] += 1

    def received_call(self, action: str) -> None:
        self.received[action] += 1

    def merge(self, other: FleetTraffic) -> None:
        for action, counts in other.sent.items():
            self.sent.setdefault(action, ActionCounts()).merge(counts)
        self.received.update(other.received)
        self.boots.update(other.boots)
        self.authorizations.update(other.authorizations)
        self.connections += other.connections
        self.reconnects += other.reconnects


class BoxTraffic:
    """One box's observer (a `TrafficObserver`): counts into the fleet's, and tells a first
    connection from a reconnect."""

    __slots__ = ("_connected_before", "_fleet")

    def __init__(self, fleet: FleetTraffic) -> None:
        self._fleet = fleet
        self._connected_before = False

    def answered(
        self, action: str, latency_s: float, outcome: str, payload: dict[str, Any] | None
    ) -> None:
        self._fleet.answered(action, latency_s, outcome, payload)

    def received(self, action: str) -> None:
        self._fleet.received_call(action)

    def connected(self) -> None:
        self._fleet.connections += 1
        if self._connected_before:
            self._fleet.reconnects += 1
        self._connected_before = True
