"""Where a connection goes when the OCPP version keeps its own list of places (2.0.1's
network connection profiles): what `ConnectionSecurity` needs of it, so the shared security
code knows no version's store of them."""

from __future__ import annotations

from typing import Protocol


class Endpoint(Protocol):
    """One place to connect: a 2.0.1 network connection profile."""

    @property
    def url(self) -> str: ...

    @property
    def security_profile(self) -> int: ...

    @property
    def message_timeout_s(self) -> float: ...


class Endpoints(Protocol):
    """Where to connect when the version keeps its own list of places (2.0.1's network
    profile slots): the slot in use, moved on by the link's outcomes."""

    order: list[int]
    """The slots of this start, in the order they are tried."""

    def current(self) -> tuple[int, Endpoint]: ...

    def pass_over(self) -> None:
        """The box cannot use the current slot (no credentials for it): the next one."""

    def connected(self) -> None: ...

    def failed(self) -> None:
        """A failed attempt counts towards the slot's fallback."""
