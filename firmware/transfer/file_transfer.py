"""Files to and from the places a CSMS names: HTTP(S) with aiohttp, FTP with the standard
library. Failures come back as TransferError with the status word OCPP reports them with.

Every connection goes through the DestinationGuard (after name resolution, and for every
redirect), so a location can never reach the box's own local API or a link-local address.
A download has a size cap (checked against Content-Length before the body and against the
running count while it comes) and an overall deadline: a server trickling a byte now and
then cannot hold a job forever.

Upload: a location ending in "/" is a directory and gets the file's name appended. HTTP
uploads PUT the file; a server that answers 405 to PUT gets a multipart/form-data POST
(field "file") instead, the other common convention. Uploads follow no redirect.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from pievse.firmware.transfer.destinations import DestinationGuard
from pievse.firmware.transfer.transfer_error import FINAL_FAILURES, TransferError

log = logging.getLogger(__name__)
TRANSFER_TIMEOUT_S = 60.0
"""Connecting, and the longest silence while reading."""
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
HTTP_SCHEMES = ("http", "https")
FTP_SCHEMES = ("ftp",)
__all__ = ["FileTransfers", "TransferError", "check_location"]


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


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver with every address it returns checked by the guard: the address
    checked is the address connected to."""

    def __init__(self, guard: DestinationGuard) -> None:
        self._guard = guard
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            self._guard.check(host, result["host"], port)
        return found

    async def close(self) -> None:
        await self._inner.close()


def _target(location: str, filename: str) -> str:
    return location + filename if location.endswith("/") else location


def _check_http_status(status: int, url: str) -> None:
    if status in (401, 403):
        raise TransferError("PermissionDenied", f"{url}: HTTP {status}")
    if status >= 400:
        raise TransferError("TransferFailure", f"{url}: HTTP {status}")


def _too_large(location: str, max_bytes: int) -> TransferError:
    return TransferError("TransferFailure", f"{location} is larger than {max_bytes} bytes")


class FileTransfers:
    def __init__(self, guard: DestinationGuard, download_deadline_s: float) -> None:
        self._guard = guard
        self._deadline_s = download_deadline_s

    def _session(self, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
        """Names are checked by the resolver; addresses written in a URL (which aiohttp
        does not resolve) at the start of each request, redirects included."""

        async def check_url(
            _session: aiohttp.ClientSession,
            _context: SimpleNamespace,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            url = params.url
            self._guard.check_literal(url.raw_host or "", url.port or 0)

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(check_url)
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._guard), use_dns_cache=False)
        return aiohttp.ClientSession(timeout=timeout, connector=connector, trace_configs=[trace])

    # --- uploads ---------------------------------------------------------------------------

    async def upload_with_retries(
        self, location: str, filename: str, data: bytes, retries: int, retry_interval_s: float
    ) -> str:
        """ "Uploaded", or the status of the last failure (a TransferError status); a refusal
        or a location that is not one is not retried."""
        for attempt in range(retries + 1):
            try:
                target = await self.upload(location, filename, data)
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

    async def upload(self, location: str, filename: str, data: bytes) -> str:
        """Returns where the file went."""
        parts = check_location(location)
        target = _target(location, filename)
        if parts.scheme in FTP_SCHEMES:
            # ftplib is imported only when a CSMS names an FTP location.
            from pievse.firmware.transfer import ftp_transfer

            await asyncio.to_thread(
                ftp_transfer.store, urllib.parse.urlsplit(target), data, self._guard
            )
            return target
        try:
            async with self._session(aiohttp.ClientTimeout(total=TRANSFER_TIMEOUT_S)) as http:
                async with http.put(target, data=data, allow_redirects=False) as response:
                    status = response.status
                if status == 405:
                    form = aiohttp.FormData()
                    form.add_field("file", data, filename=filename)
                    async with http.post(target, data=form, allow_redirects=False) as response:
                        status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransferError("TransferFailure", f"upload to {target} failed: {exc}") from exc
        if 300 <= status < 400:
            raise TransferError("TransferFailure", f"{target}: HTTP {status} (no redirects)")
        _check_http_status(status, target)
        return target

    # --- downloads -------------------------------------------------------------------------

    async def download(self, location: str, destination: Path, max_bytes: int) -> int:
        """Into `destination` (replaced only when complete); returns its size."""
        partial = destination.with_name(destination.name + ".part")
        try:
            with partial.open("wb") as f:
                size = await self._within_deadline(location, f.write, max_bytes)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(destination)
        return size

    async def fetch(self, location: str, max_bytes: int) -> bytes:
        """A small file into memory (a signature, a certificate)."""
        data = bytearray()
        await self._within_deadline(location, data.extend, max_bytes)
        return bytes(data)

    async def _within_deadline(
        self, location: str, write: Callable[[bytes], object], max_bytes: int
    ) -> int:
        parts = check_location(location)
        deadline = time.monotonic() + self._deadline_s
        try:
            async with asyncio.timeout(self._deadline_s):
                if parts.scheme in FTP_SCHEMES:
                    from pievse.firmware.transfer import ftp_transfer

                    return await asyncio.to_thread(
                        ftp_transfer.retrieve, parts, write, max_bytes, self._guard, deadline
                    )
                return await self._get(location, write, max_bytes)
        except TimeoutError:
            raise TransferError(
                "TransferFailure",
                f"{location}: not complete within the {self._deadline_s:g} s download deadline",
            ) from None

    async def _get(self, location: str, write: Callable[[bytes], object], max_bytes: int) -> int:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=TRANSFER_TIMEOUT_S, sock_read=TRANSFER_TIMEOUT_S
        )
        try:
            async with self._session(timeout) as http:
                url = location
                for _ in range(MAX_REDIRECTS + 1):
                    async with http.get(url, allow_redirects=False) as response:
                        target = _redirect_target(response)
                        if target is None:
                            return await _read_body(response, url, write, max_bytes)
                    url = target
        except (aiohttp.ClientError, OSError) as exc:
            raise TransferError("TransferFailure", f"download of {location} failed: {exc}") from exc
        raise TransferError("TransferFailure", f"{location}: more than {MAX_REDIRECTS} redirects")


def _redirect_target(response: aiohttp.ClientResponse) -> str | None:
    """Where a redirect points (checked like any location: each hop is a request of its
    own, so the guard sees it), or None when the answer is no redirect."""
    if response.status not in REDIRECTS or "Location" not in response.headers:
        return None
    target = urllib.parse.urljoin(str(response.url), response.headers["Location"])
    if check_location(target).scheme not in HTTP_SCHEMES:
        raise TransferError("NotSupportedOperation", f"a redirect to {target}")
    return target


async def _read_body(
    response: aiohttp.ClientResponse, url: str, write: Callable[[bytes], object], max_bytes: int
) -> int:
    _check_http_status(response.status, url)
    if response.content_length is not None and response.content_length > max_bytes:
        raise _too_large(url, max_bytes)
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        write(chunk)
    return size
