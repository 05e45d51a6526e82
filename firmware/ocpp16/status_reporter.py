"""StatusNotification for connector 0 (the box) and connector 1, from the control loop.

A status is reported once it has held for MinimumStatusDuration (so a blip is not
reported), with the time it began. After each (re)registration the current status of both
connectors is sent again, because the CSMS may have missed changes while the link was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.event_wait import wait_set
from pievse.firmware.ocpp16.configuration_keys import ConfigurationKeys
from pievse.firmware.ocpp16.outbox import Outbox

log = logging.getLogger(__name__)
VENDOR_ID = "pievse"
CONNECTORS = (0, 1)


@dataclass(frozen=True)
class Observed:
    status: ConnectorStatus
    since: datetime
    since_monotonic: float


class StatusReporter:
    def __init__(
        self,
        statuses: Callable[[], dict[int, ConnectorStatus]],
        outbox: Outbox,
        keys: ConfigurationKeys,
        clock: Clock,
        accepted: Callable[[], bool],
    ) -> None:
        self._statuses = statuses
        self._outbox = outbox
        self._keys = keys
        self._clock = clock
        self._accepted = accepted
        self._observed: dict[int, Observed] = {}
        self._reported: dict[int, ConnectorStatus] = {}
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
        """After (re)registration both connectors' current status goes out at once, ahead of
        the transaction messages queued meanwhile: the CSMS learns what is now before it
        learns what happened while it was away."""
        self._reported.clear()
        for connector_id in reversed(CONNECTORS):
            seen = self._observed.get(connector_id)
            if seen is not None:
                self._reported[connector_id] = seen.status
                self._outbox.put_front("StatusNotification", self.notification(connector_id))
        self._wake.set()

    def notification(self, connector_id: int) -> dict[str, Any]:
        """The StatusNotification payload for a connector's current status."""
        seen = self._observed[connector_id]
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "errorCode": seen.status.error_code,
            "status": seen.status.status,
            "timestamp": iso_utc(seen.since),
        }
        if seen.status.vendor_error_code:
            payload["vendorId"] = VENDOR_ID
            payload["vendorErrorCode"] = seen.status.vendor_error_code
        return payload

    async def run(self) -> None:
        while True:
            self._wake.clear()
            next_due = self._report_due()
            if next_due is None:
                await self._wake.wait()
                continue
            await wait_set(self._wake, max(0.0, next_due))

    def _report_due(self) -> float | None:
        """Queues what is due; returns seconds until the next one becomes due, if any."""
        if not self._accepted():
            return None
        hold = self._keys.number("MinimumStatusDuration")
        now = self._clock.monotonic()
        waits: list[float] = []
        for connector_id in CONNECTORS:
            seen = self._observed.get(connector_id)
            if seen is None or self._reported.get(connector_id) == seen.status:
                continue
            remaining = seen.since_monotonic + hold - now
            if remaining > 0 and connector_id in self._reported:
                waits.append(remaining)
                continue
            self._reported[connector_id] = seen.status
            self._outbox.put("StatusNotification", self.notification(connector_id))
            log.info(
                "connector %d: %s (%s)", connector_id, seen.status.status, seen.status.error_code
            )
        return min(waits) if waits else None
