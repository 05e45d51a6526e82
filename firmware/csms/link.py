"""The link to the CSMS: connect, register, keep alive, reconnect.

- URL = CSMS URL + "/" + charge point id, subprotocol `ocpp1.6` or `ocpp2.0.1` as the
  dialect says (a server that does not agree to it is refused). With `[ocpp] version =
  "auto"` both are offered, the box's current one first; a CSMS that picks the other one is
  told to `on_other_version`, which switches the box over (a restart).
- Reconnects with exponential back-off and full jitter; the back-off resets once a
  connection has been registered.
- WebSocketPingInterval: a ping each interval; a pong that does not come within the next
  interval means a dead socket (the peer vanished without a close), so it is dropped and
  re-established: detection within two intervals.
- BootNotification once per process start (OCPP 1.6 4.2, 2.0.1 B01-B03,
  `CsmsSession.boot`): Pending retries after `interval` and meanwhile answers the CSMS (and
  sends only what TriggerMessage asks for); Rejected sends nothing until `interval` passed.
  A reconnect after acceptance does not boot again.
- Heartbeat only when nothing else was sent for HeartbeatInterval.
- Each attempt takes its URL, credentials, TLS context (the Security Whitepaper's profiles)
  and, on 2.0.1, the network profile's message timeout from `ConnectionSecurity`; a failed
  attempt is reported to it for classification and fallback. A change of profile, key or
  client certificate reconnects once the CSMS has its answer.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.connection_security import ConnectionSecurity, ConnectOptions
from pievse.firmware.csms.key_table import HEARTBEAT_INTERVAL, WEB_SOCKET_PING_INTERVAL
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.event_wait import wait_set
from pievse.firmware.rpc.connection import CsmsConnection, RequestFailed
from pievse.firmware.rpc.dialects import OCPP16, Dialect
from pievse.firmware.rpc.frames import WEBSOCKET_MAX_BYTES
from pievse.firmware.rpc.routes import Routes
from pievse.firmware.rpc.traffic import NO_TRAFFIC, TrafficObserver

log = logging.getLogger(__name__)
websocket_log = logging.getLogger("pievse.websockets")
# websockets logs the handshake's headers at DEBUG, the Basic credentials among them: that
# logger never goes below INFO, whatever -v does to the others.
websocket_log.setLevel(logging.INFO)
OPEN_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
ANSWER_BEFORE_RECONNECT_S = 5.0


@dataclass(frozen=True)
class LinkSettings:
    csms_url: str
    charge_point_id: str
    response_timeout_s: float = 30.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    dialect: Dialect = OCPP16
    also_offered: tuple[Dialect, ...] = ()
    """Offered after `dialect` in the handshake ("auto")."""


def backoff_ceiling_s(failures: int, minimum_s: float, maximum_s: float) -> float:
    """The longest wait after `failures` attempts in a row that did not register: doubling
    from the minimum, never above the maximum (the wait itself is drawn below it)."""
    return min(maximum_s, minimum_s * 2.0 ** min(failures, 16))


class DeadConnection(Exception):
    pass


class Reconnect(Exception):
    """Asked for: new credentials or a new client certificate take effect."""


class CsmsLink:
    def __init__(
        self,
        settings: LinkSettings,
        session: CsmsSession,
        keys: ConfigurationKeys,
        outbox: Outbox,
        handlers: Iterable[object],
        security: ConnectionSecurity,
        on_accepted: Sequence[Callable[[], None]] = (),
        on_invalid_message: Callable[[str], None] = lambda _text: None,
        on_other_version: Callable[[str], None] = lambda _version: None,
        traffic: TrafficObserver = NO_TRAFFIC,
    ) -> None:
        self.settings = settings
        self.session = session
        self._keys = keys
        self._outbox = outbox
        self._routes = Routes(handlers)
        """Built once: a second handler for one action stops the start (DuplicateRoute)."""
        self.security = security
        self.url = security.current_url()
        self._on_accepted = list(on_accepted)
        self._on_invalid_message = on_invalid_message
        self._on_other_version = on_other_version
        self._traffic = traffic
        self.last_error: str | None = None
        self._registered_here = False
        self._last_sent = 0.0
        self._ping_interval_changed = asyncio.Event()
        keys.on_change(WEB_SOCKET_PING_INTERVAL, lambda _v: self._ping_interval_changed.set())

    def describe(self) -> dict[str, Any]:
        return {
            "connected": self.session.connected,
            "registration": self.session.registration,
            "csms_url": self.settings.csms_url,
            "version": self.settings.dialect.version,
            "url": self.url,
            "last_error": self.last_error,
            "queued": self._outbox.pending_transaction_messages(),
            "dropped": self._outbox.dropped,
            "held": self._outbox.held,
            **self.security.describe(),
        }

    # --- the connection loop -------------------------------------------------------------

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Reconnect:
                log.info("reconnecting with the new security settings")
                continue
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("CSMS connection to %s failed: %s", self.url, self.last_error)
            finally:
                self.session.connection = None
                self._outbox.drop_volatile()
            if self.session.reconnect_wanted.is_set():
                continue
            # A connection that registered was a success however it ended (a drop is how
            # every connection ends): only attempts that never got there double the wait.
            failures = 0 if self._registered_here else failures + 1
            delay = random.uniform(
                self.settings.reconnect_min_s / 2,
                backoff_ceiling_s(
                    failures, self.settings.reconnect_min_s, self.settings.reconnect_max_s
                ),
            )
            log.info("reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    async def _connect_once(self) -> None:
        """One connection, until it fails (`_registered_here` says whether it registered)."""
        self.session.reconnect_wanted.clear()
        self._registered_here = False
        options = self.security.connect_options()
        self.url = options.url
        websocket = await self._open(options)
        self.security.connected(options)
        self._traffic.connected()
        async with websocket:
            self._check_subprotocol(websocket.subprotocol)
            self._last_sent = asyncio.get_running_loop().time()
            connection = CsmsConnection(
                self.settings.dialect,
                self.settings.charge_point_id,
                websocket,
                self._routes,
                options.message_timeout_s or self.settings.response_timeout_s,
                self._note_traffic,
                self._on_invalid_message,
                self._traffic,
            )
            self.session.connection = connection
            self.last_error = None
            log.info("connected to %s", self.url)
            await self._serve(websocket, connection)

    async def _open(self, options: ConnectOptions) -> ClientConnection:
        """The WebSocket handshake, offering the dialect's subprotocol first; a failure is
        told to the connection security (its classification and fallback)."""
        try:
            return await connect(
                options.url,
                subprotocols=[
                    Subprotocol(d.subprotocol)
                    for d in (self.settings.dialect, *self.settings.also_offered)
                ],
                additional_headers=options.headers or None,
                ssl=options.ssl_context,
                logger=websocket_log,
                ping_interval=None,
                open_timeout=OPEN_TIMEOUT_S,
                max_size=WEBSOCKET_MAX_BYTES,
                close_timeout=CLOSE_TIMEOUT_S,
                # OCPP frames are small; per-message deflate would cost ~0.5 MB of zlib state.
                compression=None,
            )
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            await self.security.failed(options, exc)
            raise ConnectionError(f"cannot connect: {exc}") from exc

    def _check_subprotocol(self, chosen: str | None) -> None:
        """The CSMS agreed to the box's dialect; one that chose another one offered ("auto")
        switches the box over to it."""
        wanted = self.settings.dialect.subprotocol
        if chosen == wanted:
            return
        other = next((d for d in self.settings.also_offered if d.subprotocol == chosen), None)
        if other is None:
            raise ConnectionError(f"CSMS did not agree to subprotocol {wanted}")
        self._on_other_version(other.version)
        raise ConnectionError(f"CSMS chose {other.subprotocol}: switching to it")

    async def _serve(self, websocket: ClientConnection, connection: CsmsConnection) -> None:
        """The reader, the pings, the operation and a renewal asked for run until one ends;
        its failure ends the connection: a dead one aborted (a closing handshake would wait
        in vain), a renewal closed normally (1000, not an error)."""
        reader = asyncio.create_task(connection.start(), name="ocpp-reader")
        work = [
            asyncio.create_task(self._watch_pongs(websocket), name="ocpp-ping"),
            asyncio.create_task(self._operate(), name="ocpp-operate"),
            asyncio.create_task(self._reconnect_when_asked(connection), name="ocpp-renew"),
        ]
        try:
            done, _ = await asyncio.wait([reader, *work], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.session.connection = None
            for task in (reader, *work):
                task.cancel()
            await asyncio.gather(reader, *work, return_exceptions=True)
        for task in done:
            failure = None if task.cancelled() else task.exception()
            if isinstance(failure, DeadConnection):
                websocket.transport.abort()
            if isinstance(failure, Reconnect):
                await websocket.close()
            if failure is not None:
                raise failure

    async def _reconnect_when_asked(self, connection: CsmsConnection) -> None:
        await self.session.reconnect_wanted.wait()
        async with asyncio.timeout(ANSWER_BEFORE_RECONNECT_S):
            await connection.answers_sent()
        raise Reconnect

    def _note_traffic(self) -> None:
        self._last_sent = asyncio.get_running_loop().time()

    async def _operate(self) -> None:
        session = self.session
        while session.registration != "accepted":
            wait = session.boot_due - asyncio.get_running_loop().time()
            if wait > 0:
                # A triggered BootNotification may be accepted meanwhile.
                await wait_set(session.registered, wait)
                continue
            try:
                await session.boot()
            except RequestFailed as exc:
                log.warning("BootNotification failed: %s", exc)
                session.boot_due = asyncio.get_running_loop().time() + self.settings.reconnect_min_s
        self._registered_here = True
        for listener in self._on_accepted:
            listener()
        await asyncio.gather(self._outbox.pump(session.request), self._heartbeats())

    async def _heartbeats(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            interval = self._keys.get(HEARTBEAT_INTERVAL)
            if interval <= 0:
                await asyncio.sleep(1.0)
                continue
            quiet_for = loop.time() - self._last_sent
            if quiet_for < interval:
                await asyncio.sleep(min(interval - quiet_for, 1.0))
                continue
            try:
                answer = await self.session.request("Heartbeat", {})
            except RequestFailed as exc:
                log.warning("Heartbeat failed: %s", exc)
                continue
            self.session.set_time(answer["currentTime"])

    async def _watch_pongs(self, websocket: Any) -> None:
        while True:
            self._ping_interval_changed.clear()
            interval = self._keys.get(WEB_SOCKET_PING_INTERVAL)
            # A changed interval applies at once, not after the old one ran out.
            if await wait_set(self._ping_interval_changed, interval if interval > 0 else None):
                continue
            pong = await websocket.ping()
            try:
                await asyncio.wait_for(pong, interval)
            except TimeoutError:
                raise DeadConnection(
                    f"no pong within {interval} s; the connection is dead"
                ) from None
