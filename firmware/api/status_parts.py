"""The status document is made of parts (the grid reading, the mode, site sharing, MQTT...)
that each describe themselves. One that fails must not take the document down with it: the
page, the MQTT state, DataTransfer and GetDiagnostics all read it. A failing part is left
out (its fallback stands in) and named under "unavailable" with its error; the first failure
of a part is logged with its traceback, its recovery once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
UNAVAILABLE = "unavailable"


class Describes(Protocol):
    def describe(self) -> Any:
        """What /api/status shows of it; may raise (and then it is left out)."""


class StatusParts:
    """Held by whoever builds the document: `take` each part, then `finish` the document.
    Not reentrant (the document is built on the event loop, one at a time)."""

    def __init__(self) -> None:
        self._failing: set[str] = set()
        self._now: dict[str, str] = {}

    def take(self, name: str, describe: Callable[[], T], fallback: T) -> T:
        try:
            value = describe()
        except Exception as exc:
            self._now[name] = f"{type(exc).__name__}: {exc}"[:200]
            if name not in self._failing:
                self._failing.add(name)
                log.exception("status: the part %r could not describe itself", name)
            return fallback
        if name in self._failing:
            self._failing.discard(name)
            log.info("status: the part %r describes itself again", name)
        return value

    def take_optional(self, name: str, part: Describes | None) -> Any:
        """A part the box may not have: its description, or None."""
        return None if part is None else self.take(name, part.describe, None)

    def finish(self, document: dict[str, Any]) -> dict[str, Any]:
        document[UNAVAILABLE] = self._now
        self._now = {}
        return document


class GuardedStatus:
    """The document for the API and its stream, or, when it could not be built at all, an
    error with 503 (logged once until it builds again): never a 500 for one broken part,
    and never a stream that dies of it."""

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self._status = status
        self._failing = False

    def __call__(self) -> tuple[dict[str, Any], int]:
        try:
            document = self._status()
        except Exception as exc:
            if not self._failing:
                self._failing = True
                log.exception("status: the document could not be built")
            return {"error": f"the status could not be built: {type(exc).__name__}"}, 503
        self._failing = False
        return document, 200
