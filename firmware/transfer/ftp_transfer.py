"""FTP uploads and downloads (the standard library's ftplib, run in a thread), with the
failures as `file_transfer` reports them."""

from __future__ import annotations

import ftplib
import io
import urllib.parse
from pathlib import Path

from pievse.firmware.transfer.file_transfer import TRANSFER_TIMEOUT_S, TransferError


def _login(parts: urllib.parse.SplitResult) -> ftplib.FTP:
    ftp = ftplib.FTP(timeout=TRANSFER_TIMEOUT_S)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
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


def store(parts: urllib.parse.SplitResult, data: bytes) -> None:
    ftp = _login(parts)
    try:
        ftp.storbinary(f"STOR {urllib.parse.unquote(parts.path)}", io.BytesIO(data))
    except ftplib.error_perm as exc:
        raise TransferError("PermissionDenied", f"FTP refused the file: {exc}") from exc
    except (ftplib.Error, OSError) as exc:
        raise TransferError("TransferFailure", f"FTP upload failed: {exc}") from exc
    finally:
        ftp.close()


def retrieve(parts: urllib.parse.SplitResult, partial: Path, max_bytes: int) -> int:
    ftp = _login(parts)
    size = 0
    try:
        with partial.open("wb") as f:

            def write(chunk: bytes) -> None:
                nonlocal size
                size += len(chunk)
                if size > max_bytes:
                    raise TransferError("TransferFailure", f"larger than {max_bytes} bytes")
                f.write(chunk)

            ftp.retrbinary(f"RETR {urllib.parse.unquote(parts.path)}", write)
    except ftplib.error_perm as exc:
        partial.unlink(missing_ok=True)
        raise TransferError("PermissionDenied", f"FTP refused the file: {exc}") from exc
    except (ftplib.Error, OSError, TransferError) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, TransferError):
            raise
        raise TransferError("TransferFailure", f"FTP download failed: {exc}") from exc
    finally:
        ftp.close()
    return size
