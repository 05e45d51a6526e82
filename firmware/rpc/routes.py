"""Which handler answers which action: the `ocpp` library's `@on`/`@after` route maps of every
handler object, joined into one table once, at start-up. Handlers are marked through `on` and
`after` here, the library's decorators with types, so a marked method stays checked.

Two objects that both answer one action would leave it to the order of a list which one the
CSMS reaches, so a second one is refused here, before the box connects. An `after` step
receives the request's fields as keyword arguments, as the library hands them, and, when it
declares a `response` parameter, the answer its own `on` step returned: nothing of one request
waits in an instance attribute for its `after` step, where an overlapping request of the same
action would overwrite it (the installed library's `after` has no such option).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from ocpp import routing

Handler = Callable[..., Any]
Step = TypeVar("Step", bound=Callable[..., object])
RESPONSE = "response"
"""The parameter an `after` step declares to be handed its request's answer."""


def on(action: str) -> Callable[[Step], Step]:
    """The library's `@on`: marks the method that answers `action`. The library's decorators
    carry no types, which would leave every marked method unchecked; what they return passes
    every argument through to the method and returns its result, so it keeps the method's
    signature, as declared here."""
    return cast("Callable[[Step], Step]", routing.on(action))


def after(action: str) -> Callable[[Step], Step]:
    """The library's `@after`: marks the step that follows the answer to `action`."""
    return cast("Callable[[Step], Step]", routing.after(action))


class StatusAnswer(Protocol):
    """What most `after` steps read of the answer their `on` step returned (one of the
    library's response classes, which carry no types): the status the CSMS was given."""

    @property
    def status(self) -> str: ...


class DuplicateRoute(ValueError):
    """Two handler objects answer one action; the box does not start."""


@dataclass(frozen=True)
class Route:
    on: Handler | None
    after: Handler | None
    wants_response: bool


class Routes:
    def __init__(self, handlers: Iterable[object]) -> None:
        self._routes: dict[str, Route] = {}
        owners: dict[str, str] = {}
        for handler in handlers:
            for action, parts in routing.create_route_map(handler).items():
                name = type(handler).__name__
                if action in owners:
                    raise DuplicateRoute(
                        f"{action} is answered by both {owners[action]} and {name}"
                    )
                owners[action] = name
                after = parts.get("_after_action")
                self._routes[action] = Route(
                    parts.get("_on_action"),
                    after,
                    after is not None and RESPONSE in inspect.signature(after).parameters,
                )
        self.served = frozenset(a for a, route in self._routes.items() if route.on is not None)
        """The actions with an `on` step; others are refused as not served."""

    def on(self, action: str) -> Handler:
        handler = self._routes[action].on
        assert handler is not None, f"{action} is not served"
        return handler

    def after(self, action: str, request: dict[str, Any], answer: object) -> Any:
        """Runs the action's `after` step, if it has one, for this request and answer;
        returns what it returned (an awaitable for an async step)."""
        route = self._routes.get(action)
        if route is None or route.after is None:
            return None
        if route.wants_response:
            return route.after(**request, response=answer)
        return route.after(**request)
