"""The card reader as the control loop sees it: cards handed on as they come, a reader that
keeps failing reported (ReaderFailure) and retried, one that then waits quietly for a card
for `RETRY_S` counted as working again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pievse.hal.interfaces import IdTagReader

log = logging.getLogger(__name__)
RETRY_S = 1.0


class TagReaderWatch:
    def __init__(
        self,
        reader: IdTagReader,
        present: Callable[[str], Awaitable[None]],
        wake: Callable[[], None],
    ) -> None:
        self._reader = reader
        self._present = present
        self._wake = wake
        self.failed = False

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(RETRY_S if self.failed else None):
                    tag = await self._reader.next_tag()
            except TimeoutError:
                log.info("tag reader works again")
                self._set_failed(False)
                continue
            except Exception as exc:
                if not self.failed:
                    log.warning("tag reader failed: %s", exc)
                self._set_failed(True)
                await asyncio.sleep(RETRY_S)
                continue
            self._set_failed(False)
            log.info("tag %s presented", tag)
            try:
                await self._present(tag)
            except Exception:
                log.exception("handling tag %s failed", tag)

    def _set_failed(self, failed: bool) -> None:
        if failed != self.failed:
            self.failed = failed
            self._wake()
