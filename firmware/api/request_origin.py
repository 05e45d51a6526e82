"""Whether a request comes to this box by a name the box answers to (`Host`) and from one of
its own pages (`Origin`). Pure functions of header values, so they are tested exhaustively.

DNS rebinding points a name the attacker owns at the box: the browser then sends that name
as `Host`, which no owner listed, so it is refused whatever the page sends. A cross-origin
page sends its own `Origin`; only the box's own (scheme http or https, the same host and
port as `Host`) passes. Ports are not compared in `Host`: a rebinding attack cannot change
the name, and a reverse proxy may change the port."""

from __future__ import annotations

import ipaddress
import urllib.parse

LOOPBACK_NAMES = frozenset({"localhost"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name or address in lower case, port or None) of a `Host` value; None when it is
    not one (an IPv6 address must be in brackets)."""
    value = value.strip().lower()
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        name, port = address, rest[1:] if rest else None
    else:
        name, colon, port_text = value.partition(":")
        port = port_text if colon else None
        if ":" in port_text:
            return None
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        return None
    name = name.rstrip(".")
    if not name or not all(c.isascii() and (c.isalnum() or c in "-._:") for c in name):
        return None
    return name, None if port is None else int(port)


def same_address(name: str, address: str) -> bool:
    """Whether `name` is an IP literal for `address` (an IPv4-mapped IPv6 address counts
    as its IPv4 address)."""
    try:
        given, local = ipaddress.ip_address(name), ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return _unmapped(given) == _unmapped(local)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_address(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return _unmapped(parsed).is_loopback


def host_allowed(
    host: str, local_address: str | None, listen_host: str, allowed: frozenset[str]
) -> bool:
    """`host`: the `Host` header; `local_address`: the address the connection came in on;
    `listen_host`: the configured listen address or name; `allowed`: the owner's names.
    An address literal is the box's own when the connection came in on it."""
    parts = split_host(host)
    if parts is None:
        return False
    name = parts[0]
    if name in allowed or name == _listen_name(listen_host):
        return True
    if local_address is None:
        return False
    return same_address(name, local_address) or (
        name in LOOPBACK_NAMES and is_loopback_address(local_address)
    )


def _listen_name(listen_host: str) -> str | None:
    """The listen host when it is a name (an address is compared as the connection's)."""
    name = listen_host.lower().rstrip(".")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    return None


def same_origin(origin: str, host: str) -> bool:
    """Whether `origin` (an `Origin` header) is the page's own for a request sent with
    `host` as its `Host`: scheme http or https, same name, same port (defaults filled)."""
    try:
        parts = urllib.parse.urlsplit(origin.strip().lower())
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or parts.path or parts.query or "@" in parts.netloc:
        return False
    origin_host = split_host(parts.netloc)
    given = split_host(host)
    if origin_host is None or given is None:
        return False
    default = DEFAULT_PORTS[parts.scheme]
    return origin_host[0] == given[0] and (origin_host[1] or default) == (given[1] or default)
