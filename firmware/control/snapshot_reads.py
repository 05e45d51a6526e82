"""The device reads behind the core's snapshot (`CoreState`), each guarded: the step's own
reads of the same devices trip on a failure, so here one that raises only gives a stand-in
value. A broken input (a lock's feedback, a silent co-processor) must never end the core's
thread, which would leave nothing to open the contactor."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
LOG_EVERY_S = 60.0


class SnapshotReads:
    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._failing_since: dict[str, float] = {}

    def read(self, what: str, read: Callable[[], T], otherwise: T) -> T:
        """`read()`, or `otherwise` when it raises (logged at most once a minute per
        device, and again once it recovered and failed anew)."""
        try:
            value = read()
        except Exception:
            now = self._monotonic()
            since = self._failing_since.get(what)
            if since is None or now - since >= LOG_EVERY_S:
                log.exception("the core's snapshot could not read the %s", what)
                self._failing_since[what] = now
            return otherwise
        self._failing_since.pop(what, None)
        return value
