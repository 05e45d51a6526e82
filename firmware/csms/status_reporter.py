"""StatusNotification timing, whichever OCPP version renders it: each connector's status
from the control loop, reported once it has held for the minimum duration (so a blip is not
reported), with the time it began. After each (re)registration every connector's current
status is sent again, because the CSMS may have missed changes while the link was down.

A front gives the statuses in its own terms (1.6 ConnectorStatus per connector 0 and 1,
2.0.1 connectorStatus per EVSE connector) and renders the payload: a change the protocol
cannot tell apart (2.0.1 calls both Charging and SuspendedEV "Occupied") is no change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pievse.firmware.clock import Clock
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.event_wait import wait_set

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Observed:
    status: Hashable
    since: datetime
    since_monotonic: float


Render = Callable[[int, Observed], dict[str, Any]]
"""(connector id, what was observed) -> the StatusNotification payload."""


class StatusReporter:
    def __init__(
        self,
        connectors: Sequence[int],
        statuses: Callable[[], dict[int, Hashable]],
        render: Render,
        outbox: Outbox,
        hold_s: Callable[[], float],
        clock: Clock,
        accepted: Callable[[], bool],
    ) -> None:
        self.connectors = tuple(connectors)
        self._statuses = statuses
        self._render = render
        self._outbox = outbox
        self._hold_s = hold_s
        self._clock = clock
        self._accepted = accepted
        self._observed: dict[int, Observed] = {}
        self._reported: dict[int, Hashable] = {}
        self._wake = asyncio.Event()
        self.observe()

    def observe(self) -> None:
        """Called after every control step; cheap when nothing changed."""
        for connector_id, status in self._statuses().items():
            seen = self._observed.get(connector_id)
            if seen is None or seen.status != status:
                self._observed[connector_id] = Observed(
                    status, self._clock.now(), self._clock.monotonic()
                )
                self._wake.set()

    def resync(self) -> None:
        """After (re)registration every connector's current status goes out at once, ahead of
        the transaction messages queued meanwhile: the CSMS learns what is now before it
        learns what happened while it was away."""
        self._reported.clear()
        for connector_id in reversed(self.connectors):
            seen = self._observed.get(connector_id)
            if seen is not None:
                self._reported[connector_id] = seen.status
                self._outbox.put_front("StatusNotification", self.notification(connector_id))
        self._wake.set()

    def notification(self, connector_id: int) -> dict[str, Any]:
        """The StatusNotification payload for a connector's current status."""
        return self._render(connector_id, self._observed[connector_id])

    async def run(self) -> None:
        while True:
            self._wake.clear()
            next_due = self._report_due()
            if next_due is None:
                await self._wake.wait()
                continue
            await wait_set(self._wake, max(0.0, next_due))

    def flush(self) -> None:
        """On the way down: every connector's status as it is now goes out without its
        minimum duration (there is no later to report it in)."""
        self.observe()
        self._report_due(hold=0.0)

    def _report_due(self, hold: float | None = None) -> float | None:
        """Queues what is due; returns seconds until the next one becomes due, if any."""
        if not self._accepted():
            return None
        hold = self._hold_s() if hold is None else hold
        now = self._clock.monotonic()
        waits: list[float] = []
        for connector_id in self.connectors:
            seen = self._observed.get(connector_id)
            if seen is None or self._reported.get(connector_id) == seen.status:
                continue
            remaining = seen.since_monotonic + hold - now
            if remaining > 0 and connector_id in self._reported:
                waits.append(remaining)
                continue
            self._reported[connector_id] = seen.status
            payload = self.notification(connector_id)
            self._outbox.put("StatusNotification", payload)
            log.info("connector %d: %s", connector_id, _described(payload))
        return min(waits) if waits else None


def _described(payload: dict[str, Any]) -> str:
    status = payload.get("status") or payload.get("connectorStatus")
    error = payload.get("errorCode")
    return f"{status} ({error})" if error else str(status)
