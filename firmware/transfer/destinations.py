"""Where a transfer the CSMS names may go: never to this box's own local API (its port on any
address the box answers on), never to a link-local address (cloud metadata services, other
boxes' link-local services). Firmware and log servers on loopback stay allowed: benches and
test rigs serve files there, and the API refuses what a transfer could send it anyway.

The check runs on every address a connection is made to, after name resolution (so a name
that resolves to 127.0.0.1 is caught as the address is) and for every redirect.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable

from pievse.firmware.transfer.transfer_error import TransferError

log = logging.getLogger(__name__)
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
REFUSED = "PermissionDenied"
"""The status a refused destination reports (final: never retried)."""


def bound_locally(address: IpAddress) -> bool:
    """The box has this address (a socket can be bound to it)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def parse_address(text: str) -> IpAddress | None:
    """An IP address (an IPv6 zone dropped, an IPv4-mapped IPv6 as its IPv4), or None."""
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class DestinationGuard:
    def __init__(
        self,
        api_port: Callable[[], int | None],
        refused: Callable[[str], None],
        own_address: Callable[[IpAddress], bool] = bound_locally,
    ) -> None:
        """`api_port`: the port the local API listens on (None before it does);
        `refused`: told why each refused destination was refused (the security event)."""
        self._api_port = api_port
        self._refused = refused
        self._own_address = own_address

    def reason(self, address: IpAddress, port: int) -> str | None:
        """Why `address`:`port` is no place for a transfer, or None."""
        if address.is_link_local:
            return f"{address} is link-local"
        if port != self._api_port():
            return None
        if address.is_loopback or address.is_unspecified or self._own_address(address):
            return f"{address} port {port} is this box's own local API"
        return None

    def check(self, host: str, address: str, port: int) -> None:
        """Raises TransferError (PermissionDenied) for a destination the box refuses."""
        parsed = parse_address(address)
        if parsed is None:
            raise TransferError("BadMessage", f"{host} resolved to {address!r}, not an address")
        reason = self.reason(parsed, port)
        if reason is None:
            return
        message = f"transfer to {host}:{port} refused: {reason}"
        log.warning("%s", message)
        self._refused(message)
        raise TransferError(REFUSED, message)

    def check_literal(self, host: str, port: int) -> None:
        """A host given as an address: checked as it stands (names are checked once
        resolved)."""
        if parse_address(host) is not None:
            self.check(host, host, port)

    def resolve(self, host: str, port: int) -> list[str]:
        """Blocking: the addresses of `host`, each checked (for FTP, which then connects to
        the address, not the name, so a second lookup cannot answer differently)."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise TransferError("TransferFailure", f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in found]
        for address in addresses:
            self.check(host, address, port)
        return addresses
