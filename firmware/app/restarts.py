"""How a box restarts itself, and what it was told before this start: a restart is asked
once (a second one asked while it is under way is the same restart), recorded as a security
event, and its cause kept in the store for the next start's boot reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pievse.firmware.persistence.store import Store
from pievse.firmware.security.security_log import SecurityLog

log = logging.getLogger(__name__)
RESTART_SETTING = "restart:kind"


class Restarts:
    def __init__(
        self,
        store: Store,
        security_log: SecurityLog,
        hook: Callable[[str], Awaitable[None]] | None,
    ) -> None:
        """`hook`: told of the kind once a restart is asked (the process restarts the box)."""
        self._store = store
        self._security_log = security_log
        self._hook = hook
        self.kind: str | None = None
        """Soft, Hard or Firmware, once a restart is asked."""
        self.requested = asyncio.Event()
        self.restarted_for = store.get_setting(RESTART_SETTING) or None
        """Read once: a later power loss is a power-up again."""
        store.set_setting(RESTART_SETTING, "")

    async def request(self, kind: str, reason: str | None = None, cause: str | None = None) -> None:
        """`cause`: why, for the next boot's reason, where `kind` does not say it. A reset
        asked while one is under way (a second CSMS reset, an OnIdle one whose transaction an
        Immediate one ended, an update's switch) is the same restart, already on its way."""
        if self.requested.is_set():
            log.info("%s restart: a restart is already under way", kind)
            return
        self._security_log.record("ResetOrReboot", reason or f"{kind} reset requested by the CSMS")
        self.kind = kind
        self._store.set_setting(RESTART_SETTING, cause or kind)
        self.requested.set()
        if self._hook is not None:
            await self._hook(kind)
