"""Real servers on loopback for uploads and downloads: HTTP (aiohttp) and FTP (pyftpdlib)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


@dataclass
class HttpFiles:
    """PUT /files/NAME stores; /post-only/ takes POST multipart only (405 to PUT);
    /forbidden/ answers 403; /broken/ 500; /slow/ waits `slow_s` first (uploads and
    downloads alike). GET /files/NAME (or /slow/NAME) serves what `serve` holds."""

    uploads: dict[str, bytes] = field(default_factory=dict)
    serve: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    slow_s: float = 2.0
    base: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{kind}/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        kind, name = request.match_info["kind"], request.match_info["name"]
        self.hits[kind] = self.hits.get(kind, 0) + 1
        if kind == "forbidden":
            return web.Response(status=403)
        if kind == "broken":
            return web.Response(status=500)
        if kind == "slow":
            await asyncio.sleep(self.slow_s)
        if request.method == "GET":
            if name not in self.serve:
                return web.Response(status=404)
            return web.Response(body=self.serve[name])
        if kind == "post-only":
            if request.method != "POST":
                return web.Response(status=405)
            form = await request.post()
            upload = form["file"]
            assert isinstance(upload, web.FileField)
            self.uploads[upload.filename] = upload.file.read()
            return web.Response(status=201)
        self.uploads[name] = await request.read()
        return web.Response(status=201)


class FtpFiles:
    """An FTP server with user "box" / password "secret" on `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        authorizer.add_user("box", "secret", str(root), perm="elradfmw")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
        self._server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"timeout": 0.1}, daemon=True
        )
        self._thread.start()

    def url(self, path: str, password: str = "secret") -> str:
        return f"ftp://box:{password}@127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self._server.close_all()
        self._thread.join(timeout=5)
