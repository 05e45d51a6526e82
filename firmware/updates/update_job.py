"""One firmware update as it goes: the request's fields (Job), the owner's limits, and the
pieces that make plain 1.6 UpdateFirmware as safe as the signed forms: the signature found
beside the bundle, the refusals with their security event, the bundle opened once."""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pievse.firmware.transfer.transfer_error import TransferError

if TYPE_CHECKING:
    from cryptography import x509


@dataclass(frozen=True)
class UpdateLimits:
    """What the owner's config file sets for updates (never the CSMS)."""

    max_bundle_bytes: int
    """The size cap: a larger bundle is refused before it comes (Content-Length) or while."""
    verify_timeout_s: float
    allow_unsigned: bool = False
    """Install bundles nobody signed, while no ManufacturerRootCertificate is provisioned."""


@dataclass(frozen=True)
class Job:
    location: str
    retrieve_at: datetime
    retries: int
    retry_interval_s: int
    signed: bool = False
    """Asked by SignedUpdateFirmware or 2.0.1's UpdateFirmware (the signed statuses)."""
    request_id: int | None = None
    install_at: datetime | None = None
    certificate: x509.Certificate | None = None
    """The checked signing certificate; for plain 1.6 UpdateFirmware it comes from beside
    the bundle (`signature_beside`) during the download."""
    signature: str = ""


class Refusal(Exception):
    """An update refused for trust: the security event it records and the status it ends
    with."""

    def __init__(self, event: str, reason: str, status: str) -> None:
        super().__init__(reason)
        self.event = event
        self.status = status


class MissingSignature(TransferError):
    """The signature or the signing certificate beside a plain update's bundle could not be
    had: an unsigned bundle, as far as this box can tell."""


def signature_beside(location: str) -> tuple[str, str]:
    """Where plain UpdateFirmware's signature (.sig, base64) and signing certificate (.pem)
    are: beside the bundle, as deploy/make_bundle.py writes them (a query stays last)."""
    parts = urllib.parse.urlsplit(location)

    def beside(suffix: str) -> str:
        return urllib.parse.urlunsplit(parts._replace(path=parts.path + suffix))

    return beside(".sig"), beside(".pem")


@contextlib.contextmanager
def opened_once(path: Path) -> Iterator[BinaryIO]:
    """The downloaded bundle, opened once and unlinked at once: verified and extracted
    through this one descriptor, its bytes cannot be swapped in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    path.unlink(missing_ok=True)
    with os.fdopen(fd, "rb") as bundle:
        yield bundle
