"""Who may use the local API; every route passes these checks, in this order, before its
handler runs (so a refused request changes nothing, and a route added later gets them too):

1. `Host` must name the box: an address the connection came in on, `localhost` over
   loopback, the listen name, or a name in `[api] allowed_hosts` (DNS rebinding: 403).
2. A present `Origin` must be the box's own page (cross-origin pages: 403).
3. Beyond loopback, the token (`Authorization: Bearer <token>`) for everything that changes
   state, and for reading too unless `[api] lan_read` opens it; the status page's own files
   hold no data and load without it, so the page can ask for it (401). It is compared in
   constant time and never logged.
   The settings (`/api/settings`: the CSMS URL and its credentials) need it from
   everywhere, loopback too, as soon as one is configured or was made, reading included
   (`lan_read` does not open them, and the token is never taken from their query).
4. Whatever changes state (every method but GET/HEAD/OPTIONS, bodiless actions too) must say
   `Content-Type: application/json` (415). A browser cannot send that cross-origin without a
   CORS preflight, which this API never grants; a form or a file transfer cannot send it.
5. Its body must arrive within BODY_TIMEOUT_S (408) and within the size aiohttp allows (413).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from pievse.firmware.api.request_origin import host_allowed, same_origin
from pievse.firmware.config import ApiConfig, allowed_host_names, key
from pievse.firmware.persistence.private_files import write_private_file
from pievse.firmware.persistence.store import Store

log = logging.getLogger(__name__)
ALLOWED_HOSTS_KEY = key(lambda c: c.api.allowed_hosts)
TOKEN_SETTING = "api:token"
TOKEN_FILE = "api-token"
READING = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_TIMEOUT_S = 10.0
SETTINGS_PATH = "/api/settings"
HOLDS_SECRETS = frozenset({SETTINGS_PATH})
JSON = "application/json"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _refuse(status: int, error: str, **headers: str) -> web.Response:
    return web.json_response({"error": error}, status=status, headers=headers or None)


@dataclass(frozen=True)
class ApiAccess:
    token: str | None = None
    """None: no token check (the API listens on loopback only)."""
    lan_read: bool = False
    listen_host: str = "127.0.0.1"
    allowed_hosts: frozenset[str] = frozenset()
    settings_token: str | None = None
    """What the routes holding secrets ask for over loopback too (`token` where it is
    stricter); None on loopback while no token exists."""

    def refusal(self, request: web.Request) -> web.Response | None:
        """Why `request` may not reach its handler (checks 1 to 4), or None."""
        host = request.headers.get("Host")
        if host is not None and not host_allowed(
            host, _local_address(request), self.listen_host, self.allowed_hosts
        ):
            return _refuse(
                403,
                f"Host {host[:80]!r} is not a name of this box; "
                f"an owner who reaches it by that name adds it to {ALLOWED_HOSTS_KEY}",
            )
        origin = request.headers.get("Origin")
        if origin is not None and (host is None or not same_origin(origin, host)):
            return _refuse(403, f"Origin {origin[:80]!r} is not this box's page")
        token = self.token
        if request.path in HOLDS_SECRETS:
            token = self.token or self.settings_token
        if token is not None and not self._token_given(request, token):
            return _refuse(
                401,
                "this API needs its token: Authorization: Bearer <token>",
                **{"WWW-Authenticate": "Bearer"},
            )
        if request.method not in READING and request.content_type != JSON:
            return _refuse(
                415, f"a request that changes state must be sent as Content-Type: {JSON}"
            )
        return None

    def _token_given(self, request: web.Request, token: str) -> bool:
        secret = request.path in HOLDS_SECRETS
        open_read = request.method in READING and (
            self.lan_read or request.path == "/" or request.path.startswith("/static/")
        )
        if open_read and not secret:
            return True
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if not given and request.method in READING and not secret:
            # An EventSource cannot send headers: reading may name it in the query.
            scheme, value = "bearer", request.query.get("token", "")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        )

    def middleware(self) -> Any:
        @web.middleware
        async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            if request.method not in READING:
                try:
                    async with asyncio.timeout(BODY_TIMEOUT_S):
                        await request.read()  # kept: the handler's read() returns it
                except TimeoutError:
                    return _refuse(408, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s")
                except web.HTTPRequestEntityTooLarge as exc:
                    return _refuse(413, exc.text or "the body is too large")
            return await handler(request)

        return check


def _local_address(request: web.Request) -> str | None:
    transport = request.transport
    sockname = None if transport is None else transport.get_extra_info("sockname")
    return sockname[0] if isinstance(sockname, tuple) and sockname else None


def token_places(config_file: Path | None, data_dir: Path) -> list[Path]:
    """Where a made token is shown: beside the config file, else in the data directory."""
    return [*([config_file.parent / TOKEN_FILE] if config_file else []), data_dir / TOKEN_FILE]


def access_for(
    host: str, api: ApiConfig, store: Store, token_places: Sequence[Path] = ()
) -> ApiAccess:
    """The checks for an API listening on `host`. Beyond loopback it needs a token: the
    configured one, or one made at the first start and kept in the store; a made one is
    written once to a file only the service user reads (the first of `token_places` that
    can be written), and the log names the file, never the token."""
    allowed = allowed_host_names(api.allowed_hosts) or frozenset()
    if is_loopback(host):
        existing = api.token or store.get_setting(TOKEN_SETTING) or None
        return ApiAccess(None, api.lan_read, host, allowed, existing)
    token = api.token or store.get_setting(TOKEN_SETTING)
    if not token:
        token = new_token()
        store.set_setting(TOKEN_SETTING, token)
        _show_once(token, host, token_places)
    return ApiAccess(token, api.lan_read, host, allowed)


def _show_once(token: str, host: str, places: Sequence[Path]) -> None:
    for place in places:
        try:
            write_private_file(place, f"{token}\n")
        except OSError as exc:
            log.info("cannot write the API token to %s: %s", place, exc.strerror or exc)
            continue
        log.warning(
            "the local API listens on %s and needs a token; a new one is in %s "
            "(mode 0600, readable by the service user only)",
            host,
            place,
        )
        return
    log.error(
        "the local API listens on %s and needs a token, but none of %s could be written: "
        f"set {key(lambda c: c.api.token)} in the config file",
        host,
        ", ".join(str(p) for p in places) or "(no place)",
    )
