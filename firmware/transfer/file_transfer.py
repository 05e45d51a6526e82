"""Files to and from the places a CSMS names: HTTP(S) with aiohttp, FTP with the standard
library. Failures come back as the status words OCPP reports them with, so each caller
(GetLog, GetDiagnostics, firmware downloads) says the same thing for the same failure.

Upload: a location ending in "/" is a directory and gets the file's name appended. HTTP
uploads PUT the file; a server that answers 405 to PUT gets a multipart/form-data POST
(field "file") instead, the other common convention.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)
TRANSFER_TIMEOUT_S = 60.0
HTTP_SCHEMES = ("http", "https")
FTP_SCHEMES = ("ftp",)


class TransferError(Exception):
    """`status`: BadMessage (not a usable location), NotSupportedOperation (a scheme this box
    does not speak), PermissionDenied (the server refused us), TransferFailure (anything
    else: the network, the server, the file)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_location(location: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(location)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise TransferError("BadMessage", f"not a URL: {location!r} ({exc})") from None
    if not parts.scheme or not parts.hostname:
        raise TransferError("BadMessage", f"not a URL with a scheme and a host: {location!r}")
    if parts.scheme not in HTTP_SCHEMES + FTP_SCHEMES:
        raise TransferError("NotSupportedOperation", f"{parts.scheme}:// is not supported")
    return parts


FINAL_FAILURES = ("BadMessage", "NotSupportedOperation", "PermissionDenied")
"""Failures a retry cannot mend."""


async def upload_with_retries(
    location: str, filename: str, data: bytes, retries: int, retry_interval_s: float
) -> str:
    """ "Uploaded", or the status of the last failure (a TransferError status); a refusal or
    a location that is not one is not retried."""
    for attempt in range(retries + 1):
        try:
            target = await upload(location, filename, data)
        except TransferError as exc:
            log.warning("upload of %s, attempt %d: %s", filename, attempt + 1, exc)
            if exc.status in FINAL_FAILURES:
                return exc.status
            if attempt < retries:
                await asyncio.sleep(retry_interval_s)
            continue
        log.info("uploaded %s (%d bytes) to %s", filename, len(data), target)
        return "Uploaded"
    return "TransferFailure"


def _target(location: str, filename: str) -> str:
    return location + filename if location.endswith("/") else location


async def upload(location: str, filename: str, data: bytes) -> str:
    """Returns where the file went."""
    parts = check_location(location)
    target = _target(location, filename)
    if parts.scheme in FTP_SCHEMES:
        # ftplib is imported only when a CSMS names an FTP location.
        from pievse.firmware.transfer import ftp_transfer

        await asyncio.to_thread(ftp_transfer.store, urllib.parse.urlsplit(target), data)
        return target
    timeout = aiohttp.ClientTimeout(total=TRANSFER_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.put(target, data=data) as response:
                status = response.status
            if status == 405:
                form = aiohttp.FormData()
                form.add_field("file", data, filename=filename)
                async with http.post(target, data=form) as response:
                    status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransferError("TransferFailure", f"upload to {target} failed: {exc}") from exc
    _check_http_status(status, target)
    return target


async def download(location: str, destination: Path, max_bytes: int) -> int:
    """Into `destination` (replaced only when complete); returns its size."""
    parts = check_location(location)
    partial = destination.with_name(destination.name + ".part")
    if parts.scheme in FTP_SCHEMES:
        from pievse.firmware.transfer import ftp_transfer

        size = await asyncio.to_thread(ftp_transfer.retrieve, parts, partial, max_bytes)
        partial.replace(destination)
        return size
    timeout = aiohttp.ClientTimeout(total=None, sock_read=TRANSFER_TIMEOUT_S)
    size = 0
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(location) as response,
        ):
            _check_http_status(response.status, location)
            with partial.open("wb") as f:
                async for chunk in response.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TransferError(
                            "TransferFailure", f"{location} is larger than {max_bytes} bytes"
                        )
                    f.write(chunk)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise TransferError("TransferFailure", f"download of {location} failed: {exc}") from exc
    except TransferError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(destination)
    return size


def _check_http_status(status: int, url: str) -> None:
    if status in (401, 403):
        raise TransferError("PermissionDenied", f"{url}: HTTP {status}")
    if status >= 400:
        raise TransferError("TransferFailure", f"{url}: HTTP {status}")
