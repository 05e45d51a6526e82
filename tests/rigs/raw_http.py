"""HTTP requests written byte by byte over a loopback socket: the headers a browser page, a
rebound name or a file transfer would send (`Host`, `Origin`, any content type), which an
HTTP client library fills in or corrects on its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any


async def raw_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str | None] | None = None,
    body: bytes = b"",
) -> tuple[int, Any]:
    """(status, the answer's JSON or its text). `Host` defaults to 127.0.0.1:<port>; a
    `Host` of None in `headers` sends none."""
    fields = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in fields.items() if value is not None]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write("\r\n".join(lines).encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(content)
    except ValueError:
        return status, content.decode(errors="replace")
