"""The status document as the API and its stream serve it: a document that could not be built
at all (each part already stands on its own: one that fails is an error entry in its place)
is a 503 in JSON, never a 500 and never a stream that dies of it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


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
