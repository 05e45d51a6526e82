"""FTP uploads and downloads (the standard library's ftplib, run in a thread), with the
failures as `file_transfer` reports them. The control connection goes to the address the
guard checked (not to the name, which a second lookup could answer differently), and so
does every passive data connection."""

from __future__ import annotations

import ftplib
import io
import time
import urllib.parse
from collections.abc import Callable

from pievse.firmware.transfer.destinations import DestinationGuard
from pievse.firmware.transfer.transfer_error import TransferError

TIMEOUT_S = 60.0


class GuardedFtp(ftplib.FTP):
    """ftplib's client whose passive data connections are checked too (ftplib takes the
    control connection's peer address, but the server names the port)."""

    guard: DestinationGuard

    def makepasv(self) -> tuple[str, int]:
        host, port = super().makepasv()
        self.guard.check(host, host, port)
        return host, port


def _login(
    parts: urllib.parse.SplitResult, guard: DestinationGuard, timeout_s: float = TIMEOUT_S
) -> ftplib.FTP:
    host, port = parts.hostname or "", parts.port or 21
    address = guard.resolve(host, port)[0]
    ftp = GuardedFtp(timeout=timeout_s)
    ftp.guard = guard
    try:
        ftp.connect(address, port)
        ftp.login(
            urllib.parse.unquote(parts.username or "anonymous"),
            urllib.parse.unquote(parts.password or ""),
        )
    except ftplib.error_perm as exc:
        ftp.close()
        raise TransferError("PermissionDenied", f"FTP login refused: {exc}") from exc
    except (ftplib.Error, OSError) as exc:
        ftp.close()
        raise TransferError("TransferFailure", f"FTP connection failed: {exc}") from exc
    return ftp


def store(parts: urllib.parse.SplitResult, data: bytes, guard: DestinationGuard) -> None:
    ftp = _login(parts, guard)
    try:
        ftp.storbinary(f"STOR {urllib.parse.unquote(parts.path)}", io.BytesIO(data))
    except ftplib.error_perm as exc:
        raise TransferError("PermissionDenied", f"FTP refused the file: {exc}") from exc
    except (ftplib.Error, OSError) as exc:
        raise TransferError("TransferFailure", f"FTP upload failed: {exc}") from exc
    finally:
        ftp.close()


def _announced_size(ftp: ftplib.FTP, path: str) -> int | None:
    try:
        return ftp.size(path)
    except (ftplib.Error, OSError, ValueError):
        return None


def retrieve(
    parts: urllib.parse.SplitResult,
    write: Callable[[bytes], object],
    max_bytes: int,
    guard: DestinationGuard,
    deadline: float,
) -> int:
    """Into `write`, at most `max_bytes` (the size the server announces is checked first),
    until `deadline` (time.monotonic())."""
    ftp = _login(parts, guard, max(0.1, min(TIMEOUT_S, deadline - time.monotonic())))
    path = urllib.parse.unquote(parts.path)
    size = 0

    def take(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > max_bytes:
            raise TransferError("TransferFailure", f"larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise TransferError("TransferFailure", "not complete within the download deadline")
        write(chunk)

    try:
        announced = _announced_size(ftp, path)
        if announced is not None and announced > max_bytes:
            raise TransferError("TransferFailure", f"{announced} bytes, more than {max_bytes}")
        ftp.retrbinary(f"RETR {path}", take)
    except ftplib.error_perm as exc:
        raise TransferError("PermissionDenied", f"FTP refused the file: {exc}") from exc
    except (ftplib.Error, OSError) as exc:
        raise TransferError("TransferFailure", f"FTP download failed: {exc}") from exc
    finally:
        ftp.close()
    return size
