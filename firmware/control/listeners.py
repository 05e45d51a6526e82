"""Telling the control loop's listeners: none of them may end the control task, stop the box
or touch the contactor."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

log = logging.getLogger(__name__)
L = TypeVar("L")


class ListenerGuard:
    def __init__(self) -> None:
        self.errors = 0
        """Listener calls that raised (`listener_errors` in the status document)."""

    def tell(self, listeners: Iterable[L], call: Callable[[L], None]) -> None:
        """A failure is logged with its traceback and counted, and the next listener is told
        all the same."""
        for listener in listeners:
            try:
                call(listener)
            except Exception:
                self.errors += 1
                log.exception("listener %r failed; the control loop goes on", listener)
