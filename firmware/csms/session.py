"""The box's standing with the CSMS, whichever socket carries it: registered or not, the
connection requests go out on, BootNotification and the clock it sets.

Profiles, the authorizer and the reporters ask through this object; `CsmsLink` keeps the
socket up and plugs each new connection in. Neither needs the other at construction, so the
profile handlers are complete before the link that serves them is built.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pievse.firmware.clock import Clock, implausible_wall_time, parse_ocpp_datetime
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import HEARTBEAT_INTERVAL
from pievse.firmware.rpc.connection import CsmsConnection, RequestFailed

log = logging.getLogger(__name__)
DEFAULT_RETRY_S = 60


class CsmsSession:
    def __init__(
        self,
        boot_payload: dict[str, Any],
        keys: ConfigurationKeys,
        clock: Clock,
        on_clock_set: Sequence[Callable[[float], None]] = (),
        on_time_refused: Sequence[Callable[[str], None]] = (),
    ) -> None:
        """`on_time_refused` hears why a CSMS time was not believed (a security event)."""
        self._boot_payload = boot_payload
        self._keys = keys
        self._clock = clock
        self._on_clock_set = list(on_clock_set)
        self._on_time_refused = list(on_time_refused)
        self.registration = "connecting"
        self.connection: CsmsConnection | None = None
        """The connection in use, None between connections (set by `CsmsLink`)."""
        self.boot_due = 0.0
        """Loop time before which the CSMS asked not to boot again (Pending, Rejected)."""
        self.registered = asyncio.Event()
        self.reconnect_wanted = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.connection is not None

    @property
    def accepted(self) -> bool:
        return self.connected and self.registration == "accepted"

    def reconnect(self) -> None:
        """Closes the connection once the CSMS has the answers it waits for, then connects
        again at once with what `ConnectionSecurity` gives."""
        self.reconnect_wanted.set()

    async def request(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Sends now, bypassing the outbox (Authorize, triggered messages)."""
        connection = self.connection
        if connection is None:
            raise RequestFailed("not connected to the CSMS")
        return await connection.request(action, payload)

    async def boot(self) -> str:
        """One BootNotification (also what TriggerMessage BootNotification does)."""
        answer = await self.request("BootNotification", self._boot_payload)
        self.set_time(answer["currentTime"])
        status: str = answer["status"]
        interval = answer["interval"]
        loop_time = asyncio.get_running_loop().time()
        if status == "Accepted":
            if interval > 0:
                self._keys.set(HEARTBEAT_INTERVAL, str(interval))
            first = self.registration != "accepted"
            self.registration = "accepted"
            self.registered.set()
            if first:
                log.info("registered with the CSMS (heartbeat every %d s)", interval)
        else:
            self.registration = status.lower()
            self.registered.clear()
            self.boot_due = loop_time + (interval or DEFAULT_RETRY_S)
            log.warning("CSMS answered BootNotification %s; next try in %d s", status, interval)
        return status

    def set_time(self, text: str) -> None:
        """Believes the CSMS's time only inside the plausible window (`clock`): a year 9999
        would make every later reading of the clock overflow."""
        try:
            csms_now = parse_ocpp_datetime(text)
            refused = implausible_wall_time(csms_now)
        except ValueError as exc:
            refused = str(exc)
        if refused is not None:
            log.warning("CSMS time refused: %s; clock not set", refused)
            for heard in self._on_time_refused:
                heard(f"CSMS time refused: {refused}")
            return
        skew = (csms_now - self._clock.now()).total_seconds()
        self._clock.set_wall(csms_now)
        if abs(skew) > 1.0:
            log.info("clock set from the CSMS (off by %.1f s)", skew)
            for listener in self._on_clock_set:
                listener(skew)
