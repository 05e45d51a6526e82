"""A real CSMS for the tests: the `ocpp` library's central-system side over websockets.

It validates every frame the charge point sends against the 1.6 schemas (the library does,
and a CALLERROR it would answer is recorded as a protocol failure), answers with what a
test scripts, and records everything it received in order.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import websockets
from ocpp.charge_point import ChargePoint as LibraryChargePoint
from ocpp.messages import CallError, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response


def now_iso(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    action: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    answer: dict[str, Any] | None = None
    """What this CSMS answered, where a test needs it (StartTransaction's transactionId)."""
    charge_point: str = ""
    """The id in the path it connected on (a CSMS of several charge points)."""


@dataclass
class Script:
    """What the CSMS answers; tests change it before or during a run."""

    boot: list[tuple[str, int]] = field(default_factory=lambda: [("Accepted", 300)])
    """Answers to successive BootNotifications; the last one repeats."""
    tags: dict[str, str] = field(default_factory=dict)
    """idTag -> idTagInfo status for Authorize and StartTransaction; others are Accepted."""
    start_status: str | None = None
    """Overrides the StartTransaction idTagInfo status for every tag."""
    fail_actions: dict[str, int] = field(default_factory=dict)
    """action -> how many of the next ones get a CALLERROR InternalError."""
    expiry: dict[str, str] = field(default_factory=dict)
    """idTag -> expiryDate sent in its idTagInfo."""
    parents: dict[str, str] = field(default_factory=dict)
    """idTag -> parentIdTag sent in its idTagInfo."""
    time_offset: timedelta = timedelta()
    """The CSMS's clock (BootNotification, Heartbeat currentTime) runs this far from ours."""
    reject_firmware: set[str] = field(default_factory=set)
    """firmwareVersions whose BootNotification is Rejected (a release that never registers)."""

    def next_boot(self, firmware_version: str | None) -> tuple[str, int]:
        """(status, interval) for the next BootNotification."""
        status, interval = self.boot[0] if len(self.boot) == 1 else self.boot.pop(0)
        if firmware_version in self.reject_firmware:
            return "Rejected", 1
        return status, interval


class Recording(LibraryChargePoint):
    """What both versions' central-system sides do besides answering: record what came,
    fail what the script says, and count every CALLERROR the library had to send (a frame
    of the charge point's that broke the schema)."""

    csms: TestCsms

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if isinstance(message, list) and message and message[0] in (3, 4):
            self.csms.raw_answers.append(message)
        if isinstance(message, list) and len(message) == 4 and message[0] == 2:
            action = message[2]
            failures = self.csms.script.fail_actions.get(action, 0)
            if failures:
                self.csms.script.fail_actions[action] = failures - 1
                self.csms.received.append(Received(action, message[3], charge_point=self.id))
                error = unpack(raw_msg).create_call_error(RuntimeError("scripted failure"))
                await LibraryChargePoint._send(self, error.to_json())  # scripted, not a finding
                return
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        parsed = json.loads(message)
        if parsed[0] == 4:
            self.csms.protocol_errors.append(parsed)
        await super()._send(message)

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.csms.received.append(Received(action, payload, charge_point=self.id))


class CentralSystemSide(Recording, ChargePoint):
    def __init__(self, cp_id: str, connection: ServerConnection, csms: TestCsms) -> None:
        super().__init__(cp_id, connection, response_timeout=5)
        self.csms = csms

    @on(Action.boot_notification, skip_schema_validation=False)
    def on_boot(self, **payload: Any) -> Any:
        self._record("BootNotification", payload)
        script = self.csms.script
        status, interval = script.next_boot(payload.get("firmware_version"))
        return call_result.BootNotification(
            current_time=now_iso(script.time_offset), interval=interval, status=status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        self._record("Heartbeat", {})
        return call_result.Heartbeat(current_time=now_iso(self.csms.script.time_offset))

    @on(Action.status_notification)
    def on_status(self, **payload: Any) -> Any:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> Any:
        self._record("Authorize", {"id_tag": id_tag})
        return call_result.Authorize(id_tag_info=self.csms.id_tag_info(id_tag))

    @on(Action.start_transaction)
    def on_start(self, **payload: Any) -> Any:
        """A retransmitted StartTransaction (same connector, tag, meterStart and timestamp:
        the charge point lost our answer) gets the transaction it got before, as a CSMS
        that keeps its books does."""
        key = tuple(payload[k] for k in ("connector_id", "id_tag", "meter_start", "timestamp"))
        known = self.csms.started.get(key)
        transaction_id = known if known is not None else next(self.csms.transaction_ids)
        self.csms.started[key] = transaction_id
        self.csms.received.append(
            Received(
                "StartTransaction",
                payload,
                answer={"transaction_id": transaction_id},
                charge_point=self.id,
            )
        )
        info = self.csms.id_tag_info(payload["id_tag"])
        info["status"] = self.csms.script.start_status or info["status"]
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=info)

    @on(Action.stop_transaction)
    def on_stop(self, **payload: Any) -> Any:
        self._record("StopTransaction", payload)
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **payload: Any) -> Any:
        self._record("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **payload: Any) -> Any:
        self._record("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status(self, **payload: Any) -> Any:
        self._record("SignedFirmwareStatusNotification", payload)
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event(self, **payload: Any) -> Any:
        self._record("SecurityEventNotification", payload)
        return call_result.SecurityEventNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **payload: Any) -> Any:
        self._record("LogStatusNotification", payload)
        return call_result.LogStatusNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr: str) -> Any:
        self._record("SignCertificate", {"csr": csr})
        return call_result.SignCertificate(status="Accepted")


class TestCsms:
    """`tls`: serve wss:// with this context (its verify mode decides whether client
    certificates are asked for); `password`: ask for HTTP Basic auth with the charge point
    id and these bytes (what AuthorizationKey's hex digits stand for)."""

    __test__ = False
    SUBPROTOCOL = "ocpp1.6"

    def __init__(self, tls: ssl.SSLContext | None = None, password: bytes | None = None) -> None:
        self.tls = tls
        self.password = password
        self.refused: list[str] = []
        """Why handshakes were refused (wrong password, ...)."""
        self.client_certificates: list[bytes | None] = []
        """Per connection: the client certificate (DER) the charge point showed, if any."""
        self.script = Script()
        self.received: list[Received] = []
        self.raw_answers: list[list[Any]] = []
        self.protocol_errors: list[list[Any]] = []
        self.paths: list[str] = []
        self.subprotocols: list[str | None] = []
        self.offered: list[str | None] = []
        """Per connection: the Sec-WebSocket-Protocol header of the handshake."""
        self.transaction_ids = itertools.count(1001)
        self.started: dict[tuple[Any, ...], int] = {}
        self.side: Recording | None = None
        self.connections: list[ServerConnection] = []
        self._server: Any = None
        self.port = 0

    def tag_status(self, id_tag: str) -> str:
        return self.script.tags.get(id_tag, "Accepted")

    def id_tag_info(self, id_tag: str) -> dict[str, str]:
        info = {"status": self.tag_status(id_tag)}
        if id_tag in self.script.expiry:
            info["expiry_date"] = self.script.expiry[id_tag]
        if id_tag in self.script.parents:
            info["parent_id_tag"] = self.script.parents[id_tag]
        return info

    async def start(self) -> None:
        await self.start_on(0)

    async def start_on(self, port: int) -> None:
        """Listens on `port` (0: any); a restarted CSMS keeps its address."""
        self.side = None
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            port,
            subprotocols=[self.SUBPROTOCOL],  # type: ignore[list-item]
            ping_interval=None,
            ssl=self.tls,
            process_request=self._check_auth,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        scheme = "wss" if self.tls is not None else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/ocpp"

    def _check_auth(self, connection: ServerConnection, request: Request) -> Response | None:
        """Profile 3 proves itself with its (verified) client certificate, 1 and 2 with the
        password."""
        tls = connection.transport.get_extra_info("ssl_object")
        if self.password is None or (tls is not None and tls.getpeercert()):
            return None
        charge_point_id = request.path.rsplit("/", 1)[-1]
        expected = base64.b64encode(charge_point_id.encode() + b":" + self.password).decode()
        if request.headers.get("Authorization") == f"Basic {expected}":
            return None
        self.refused.append("no or wrong Basic credentials")
        return connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        self.paths.append(connection.request.path)
        self.subprotocols.append(connection.subprotocol)
        self.offered.append(connection.request.headers.get("Sec-WebSocket-Protocol"))
        tls = connection.transport.get_extra_info("ssl_object")
        self.client_certificates.append(None if tls is None else tls.getpeercert(binary_form=True))
        self.connections.append(connection)
        side = self.side_for(connection.request.path.rsplit("/", 1)[-1], connection)
        self.side = side
        with contextlib.suppress(websockets.ConnectionClosed):
            await side.start()

    def side_for(self, charge_point_id: str, connection: ServerConnection) -> Recording:
        return CentralSystemSide(charge_point_id, connection, self)

    async def drop_connection(self) -> None:
        for connection in self.connections:
            await connection.close()

    # --- what tests ask ------------------------------------------------------------------

    def of(self, action: str, since: int = 0) -> list[dict[str, Any]]:
        return [r.payload for r in self.received[since:] if r.action == action]

    def actions(self, since: int = 0) -> list[str]:
        return [r.action for r in self.received[since:]]

    def statuses(self, connector_id: int, since: int = 0) -> list[str]:
        return [
            p["status"]
            for p in self.of("StatusNotification", since)
            if p["connector_id"] == connector_id
        ]

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _p: True,
        timeout: float = 5.0,
        since: int = 0,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for payload in self.of(action, since):
                if predicate(payload):
                    return payload
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {action} matching within {timeout} s; received: {self.actions(since)}"
                )
            await asyncio.sleep(0.02)

    async def wait_status(
        self, connector_id: int, status: str, since: int = 0, timeout: float = 5.0
    ) -> dict[str, Any]:
        return await self.wait_for(
            "StatusNotification",
            lambda p: p["connector_id"] == connector_id and p["status"] == status,
            timeout,
            since,
        )

    async def connected(self, timeout: float = 5.0) -> Recording:
        deadline = time.monotonic() + timeout
        while self.side is None or self.side._connection.state.name != "OPEN":
            if time.monotonic() > deadline:
                raise AssertionError("the charge point did not connect")
            await asyncio.sleep(0.02)
        return self.side

    async def call(self, request: Any) -> Any:
        """A CSMS-initiated request; fails the test on a CALLERROR."""
        side = await self.connected()
        return await side.call(request, suppress=False)

    async def configure(self, **keys: str) -> None:
        """ChangeConfiguration of each key, every one Accepted."""
        for key, value in keys.items():
            answer = await self.call(call.ChangeConfiguration(key=key, value=value))
            assert answer.status == "Accepted", (key, value)

    async def send_raw(self, frame: str, timeout: float = 3.0) -> list[Any]:
        """Sends a frame as is and returns the charge point's answer frame."""
        side = await self.connected()
        before = len(self.raw_answers)
        await side._connection.send(frame)
        deadline = time.monotonic() + timeout
        while len(self.raw_answers) == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to {frame!r}")
            await asyncio.sleep(0.01)
        return self.raw_answers[before]

    async def send_together(self, calls: list[list[Any]], timeout: float = 5.0) -> list[Any]:
        """Sends the CALLs (`[2, id, action, payload]`) in one write, so that they arrive
        together and overlap in the charge point; returns each one's answer frame, in order."""
        side = await self.connected()
        connection = side._connection
        async with connection.send_context():
            for frame in calls:
                connection.protocol.send_text(json.dumps(frame).encode())
        deadline = time.monotonic() + timeout
        while True:
            answers = {a[1]: a for a in self.raw_answers}
            if all(frame[1] in answers for frame in calls):
                return [answers[frame[1]] for frame in calls]
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to each of {[f[2] for f in calls]}")
            await asyncio.sleep(0.01)


def call_error_code(answer: list[Any]) -> str:
    assert answer[0] == CallError.message_type_id, answer
    return str(answer[2])
