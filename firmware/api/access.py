"""Who may use the local API. On loopback, anyone on the box. Beyond loopback, everything
that changes state needs the token (`Authorization: Bearer <token>`), and reading needs it
too unless `[api] lan_read` opens it; the status page's own files hold no data and load
without it, so the page can ask for the token. A missing or wrong token is a 401 before any handler
runs, so nothing changes; the token is compared in constant time and never logged."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from pievse.firmware.config import ApiConfig
from pievse.firmware.persistence.store import Store

TOKEN_SETTING = "api:token"
READING = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ApiAccess:
    token: str | None
    """None: no check (the API listens on loopback only)."""
    lan_read: bool = False

    def middleware(self) -> Any:
        @web.middleware
        async def check(request: web.Request, handler: Any) -> web.StreamResponse:
            open_read = request.method in READING and (
                self.lan_read or request.path == "/" or request.path.startswith("/static/")
            )
            if self.token is not None and not open_read:
                given = request.headers.get("Authorization", "")
                scheme, _, value = given.partition(" ")
                if not given and request.method in READING:
                    # An EventSource cannot send headers: reading may name it in the query.
                    scheme, value = "bearer", request.query.get("token", "")
                ok = scheme.lower() == "bearer" and hmac.compare_digest(
                    value.strip().encode(), self.token.encode()
                )
                if not ok:
                    return web.json_response(
                        {"error": "this API needs its token: Authorization: Bearer <token>"},
                        status=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
            return await handler(request)

        return check


def access_for(host: str, api: ApiConfig, store: Store) -> ApiAccess | None:
    """Beyond loopback the API needs a token: the configured one, or one made at the first
    start, kept in the store and printed that once (never logged)."""
    if is_loopback(host):
        return None
    token = api.token or store.get_setting(TOKEN_SETTING)
    if not token:
        token = new_token()
        store.set_setting(TOKEN_SETTING, token)
        print(f"pievse: the local API's token (listening on {host}): {token}", flush=True)
    return ApiAccess(token, api.lan_read)
