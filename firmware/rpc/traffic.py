"""What a connection tells an observer about its traffic, for a fleet's load report: each
request the box sent (how long the CSMS took, how it ended), each CALL the CSMS sent, and
each connection made. A single box has no observer; its calls cost nothing then."""

from __future__ import annotations

from typing import Any, Protocol


class TrafficObserver(Protocol):
    """Called on the connection's own loop, between frames: implementations must return at
    once (count, never await or do I/O), and must not raise."""

    def answered(
        self, action: str, latency_s: float, outcome: str, payload: dict[str, Any] | None
    ) -> None:
        """A request of ours ended: `outcome` is "ok", the CALLERROR's code, "timeout" or
        "lost" (the connection went first); `payload` is the validated answer when ok."""

    def received(self, action: str) -> None:
        """The CSMS sent a CALL with this action (answered or refused)."""

    def connected(self) -> None:
        """A websocket to the CSMS was opened (the first one and every reconnect)."""


class NoTraffic:
    """The observer of a box that nobody watches."""

    def answered(
        self, action: str, latency_s: float, outcome: str, payload: dict[str, Any] | None
    ) -> None:
        pass

    def received(self, action: str) -> None:
        pass

    def connected(self) -> None:
        pass


NO_TRAFFIC = NoTraffic()
