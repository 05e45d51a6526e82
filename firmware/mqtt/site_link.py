"""The site's boxes over the box's MQTT connection: claims on
`<prefix>/site/<site id>/box/<box>`, the grid reading on `<prefix>/site/<site id>/grid`.

A box publishes its claim every heartbeat and at once when its demand or its view changed,
the grid reading it has itself (its grid meter, or one put over its local API) each time it
changes, and a leave when it stops. What it hears passes the site's checks (and is newer
than the last message heard from its sender: `MessageOrder`) or is counted, logged and
dropped. Its own claims count from its start: one of an earlier run played back is a
replay too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiomqtt

from pievse.firmware.clock import Clock
from pievse.firmware.site.grid_readings import GridReading, GridReadingError, GridReadings
from pievse.firmware.site.message_order import MessageOrder
from pievse.firmware.site.site_messages import (
    MAX_CLOCK_SKEW_S,
    Claim,
    GridShare,
    Leave,
    SiteCodec,
    SiteMessageError,
)
from pievse.firmware.site.site_share import HEARTBEAT_S, SiteShare

log = logging.getLogger(__name__)
CHECK_S = 0.1
MIN_GAP_S = 0.3
"""Between a box's claims: a view that changes with every peer heard is not echoed at once
each time (the site's traffic would grow with the square of its boxes)."""
OWN_READING_PREFERRED_S = 5.0
"""A box with a grid reading of its own takes none from the site while it is this fresh."""
LOG_EVERY_S = 60.0
"""A peer that keeps sending what the site refuses is logged once a minute, not each time."""
LOGGED_TOPICS = 1024


class SiteLink:
    def __init__(
        self,
        share: SiteShare,
        codec: SiteCodec,
        topic_prefix: str,
        grid: GridReadings,
        clock: Clock,
    ) -> None:
        self._share = share
        self._codec = codec
        self._grid = grid
        self._clock = clock
        self._base = f"{topic_prefix}/site/{codec.site}"
        self.subscriptions = [f"{self._base}/box/+", f"{self._base}/grid"]
        self._logged: dict[str, float] = {}
        self._shared_reading: GridReading | None = None
        self._order = MessageOrder(MAX_CLOCK_SKEW_S)
        started = clock.now().timestamp()
        self._order.newer(f"box:{share.box}", started, 0, started)

    def accepts(self, topic: str) -> bool:
        return topic.startswith(f"{self._base}/")

    def mqtt_status(self) -> dict[str, Any]:
        """The site's view is the status document's `site.sharing`."""
        return {}

    def receive(self, topic: str, payload: bytes) -> None:
        level = topic[len(self._base) + 1 :]
        sender = "grid" if level == "grid" else level.removeprefix("box/")
        wall = self._clock.now().timestamp()
        try:
            message = self._codec.decode(payload, sender, wall)
            if not self._order.newer(*_order_key(message), wall):
                raise SiteMessageError(
                    f"not newer than the last message from {message.box!r} (a replay?)"
                )
            if isinstance(message, GridShare):
                self._take_grid(message)
            else:
                self._share.receive(message)
        except (SiteMessageError, GridReadingError) as exc:
            self._share.ignored += 1
            self._log_refused(topic, str(exc))

    def _take_grid(self, message: GridShare) -> None:
        if message.box == self._share.box:
            return
        own = self._grid.fresh(OWN_READING_PREFERRED_S)
        if own is not None and own.origin == "local":
            return
        self._grid.feed(
            message.current_a, message.export_w, origin=message.box, taken_wall=message.at
        )
        self._shared_reading = self._grid.latest

    def _log_refused(self, topic: str, reason: str) -> None:
        now = time.monotonic()
        if len(self._logged) >= LOGGED_TOPICS:
            self._logged.clear()  # a client inventing topics gets no memory to fill
        if now - self._logged.get(topic, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[topic] = now
            log.warning("site message on %s ignored: %s", topic, reason)

    async def run(self, client: aiomqtt.Client) -> None:
        sent_at = -HEARTBEAT_S
        while True:
            now = time.monotonic()
            due = now - sent_at >= MIN_GAP_S and self._share.publish_due()
            if now - sent_at >= HEARTBEAT_S or due:
                payload = self._codec.encode(self._share.claim())
                # the same QoS as the leave: MQTT keeps the order only within one QoS, and a
                # claim overtaking its box's leave would bring the box back
                await client.publish(f"{self._base}/box/{self._share.box}", payload, qos=1)
                sent_at = now
            await self._publish_grid(client)
            await asyncio.sleep(CHECK_S)

    async def _publish_grid(self, client: aiomqtt.Client) -> None:
        reading = self._grid.latest
        if reading is None or reading is self._shared_reading or reading.origin != "local":
            return
        self._shared_reading = reading
        at = self._share.taken_wall(reading)
        message = GridShare(self._share.box, at, reading.current_a, reading.export_w)
        await client.publish(f"{self._base}/grid", self._codec.encode(message), qos=0)

    async def farewell(self, client: aiomqtt.Client) -> None:
        """On a clean stop: the others need hold nothing for this box."""
        payload = self._codec.encode(self._share.leave())
        await client.publish(f"{self._base}/box/{self._share.box}", payload, qos=1)

    def describe(self) -> dict[str, Any]:
        return self._share.describe()


def _order_key(message: Claim | Leave | GridShare) -> tuple[str, float, int]:
    """A box's claims and leaves are one sequence; the grid readings it shares another."""
    if isinstance(message, GridShare):
        return f"grid:{message.box}", message.at, 0
    return f"box:{message.box}", message.at, message.seq
