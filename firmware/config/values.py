"""What some config keys hold, parsed: a listen address, an MQTT URL, a list of host names.
The config's checks use them, and so do the parts that act on the values."""

from __future__ import annotations

import ipaddress

MAX_ALLOWED_HOSTS = 16


def parse_mqtt_url(value: str) -> tuple[bool, str, int] | None:
    """(TLS, host, port) of an mqtt:// or mqtts:// URL; None when it is not one."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("mqtt", "mqtts") or not rest or "/" in rest.rstrip("/"):
        return None
    host, colon, port = rest.rstrip("/").rpartition(":")
    if not colon:
        host, port = rest.rstrip("/"), ""
    if not host or (port and (not port.isdigit() or not 0 < int(port) < 65536)):
        return None
    tls = scheme == "mqtts"
    return tls, host.strip("[]"), int(port) if port else (8883 if tls else 1883)


def allowed_host_names(value: str) -> frozenset[str] | None:
    """The names of `[api] allowed_hosts` (comma-separated, lower case); None when one is
    not a host name or address (no port), or there are more than MAX_ALLOWED_HOSTS."""
    names = [n.strip().lower().rstrip(".") for n in value.split(",") if n.strip()]
    if len(names) > MAX_ALLOWED_HOSTS or not all(map(_host_name, names)):
        return None
    return frozenset(names)


def _host_name(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return 0 < len(name) <= 253 and all(
            c.isascii() and (c.isalnum() or c in "-.") for c in name
        )
    return True


def parse_listen(value: str) -> tuple[str, int] | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        return None
    return host.strip("[]"), int(port)
