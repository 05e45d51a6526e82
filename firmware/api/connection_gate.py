"""How many connections the local API holds, and for how long an idle one may stay.

Every connection is a file descriptor, and the process needs descriptors for what matters
more: the CSMS link, the meter line, the database, the log. aiohttp alone accepts without a
bound and lets a client send its request head as slowly as it likes, so a few hundred
half-sent requests took every descriptor and the CSMS reconnect failed with EMFILE. The gate
sits between the listening socket and aiohttp: beyond `cap` open connections a new one gets
a 503 and is closed at once (it holds its descriptor for microseconds), and a connection
that has no request in progress (none started yet: a half-sent head; or idle after an
answer) is closed after `idle_s`. The cap leaves DESCRIPTOR_RESERVE descriptors of the
process's limit (RLIMIT_NOFILE) to the rest of the box."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64
"""At most this many API connections at a time (a browser opens six to a host)."""
MIN_CONNECTIONS = 4
DESCRIPTOR_RESERVE = 192
"""Descriptors the API leaves to the rest of the process (CSMS link, meter, database,
logs, transfers, MQTT); a connection is counted as two (its socket and a file it sends)."""
_BODY = json.dumps({"error": "the local API is busy: too many connections; try again"})
BUSY_ANSWER = (
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(_BODY)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{_BODY}"
).encode()


def open_files_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def connection_cap(files_limit: int) -> int:
    """MAX_CONNECTIONS, or fewer where the descriptor limit leaves less beside the reserve."""
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, (files_limit - DESCRIPTOR_RESERVE) // 2))


class _GatedConnection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol behind it, or, beyond the cap, none."""

    def __init__(self, gate: ConnectionGate) -> None:
        self._gate = gate
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._requests = 0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._gate.admit(transport, self):
            transport.write(BUSY_ANSWER)
            transport.close()
            return
        assert self._gate.serve is not None, "the site sets it before listening"
        self._transport = transport
        self._inner = self._gate.serve()
        self._inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return None if self._inner is None else self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None or self._transport is None:
            return
        self._disarm()
        self._gate.release(self._transport)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def request_started(self) -> None:
        self._requests += 1
        self._disarm()

    def request_ended(self) -> None:
        self._requests -= 1
        if self._requests == 0:
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._timer = asyncio.get_running_loop().call_later(self._gate.idle_s, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._requests == 0 and self._transport is not None:
            self._gate.timed_out += 1
            self._transport.abort()


class ConnectionGate:
    """The protocol factory the listening socket uses; `serve` makes aiohttp's protocol
    (its low-level server, there once the runner is set up)."""

    def __init__(self, cap: int, idle_s: float) -> None:
        self.serve: Callable[[], asyncio.Protocol] | None = None
        self.cap = cap
        self.idle_s = idle_s
        self.refused = 0
        self.timed_out = 0
        self._open: dict[asyncio.BaseTransport, _GatedConnection] = {}

    def __call__(self) -> asyncio.Protocol:
        return _GatedConnection(self)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def admit(self, transport: asyncio.BaseTransport, connection: _GatedConnection) -> bool:
        if len(self._open) >= self.cap:
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                log.warning(
                    "local API: %d connections open (the cap); refused %d so far",
                    self.cap,
                    self.refused,
                )
            return False
        self._open[transport] = connection
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        self._open.pop(transport, None)

    def connection(self, transport: asyncio.BaseTransport | None) -> _GatedConnection | None:
        return None if transport is None else self._open.get(transport)


GATE = web.AppKey("connection_gate", ConnectionGate)


@web.middleware
async def mark_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request in progress keeps its connection from the idle timeout (an event stream
    for as long as it lasts; their number has its own cap)."""
    gate = request.app.get(GATE)
    connection = None if gate is None else gate.connection(request.transport)
    if connection is None:
        return await handler(request)
    connection.request_started()
    try:
        return await handler(request)
    finally:
        connection.request_ended()


class GatedSite(web.BaseSite):
    """A TCP site whose connections pass the gate (aiohttp's TCPSite, with the gate as the
    protocol factory)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, gate: ConnectionGate) -> None:
        super().__init__(runner)
        self._host, self._port, self._gate = host, port, gate
        gate.serve = runner.server

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._gate, self._host, self._port)


async def start_gated(
    app: web.Application, host: str, port: int, idle_s: float
) -> tuple[web.AppRunner, ConnectionGate]:
    """Serves `app` on host:port behind a gate sized from this process's descriptor limit.
    An OSError (the address is taken) leaves nothing running."""
    gate = ConnectionGate(connection_cap(open_files_limit()), idle_s)
    app[GATE] = gate
    # A page's open event stream must not hold a stop up.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await GatedSite(runner, host, port, gate).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner, gate
