"""The demo's central system: the `ocpp` library's central-system side over websockets on
loopback. It accepts what a charge point sends, answers as a friendly CSMS would, and
hands every frame to the timeline."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import websockets
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from pievse.firmware.rpc.routes import on

Record = Callable[[str, bool], None]
"""(raw frame, sent by the charge point)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


if TYPE_CHECKING:

    class _LibrarySide:
        """What the central system uses of the library's 1.6 `ChargePoint`, which carries no
        types: its end of one charge point's connection."""

        def __init__(self, id: str, connection: ServerConnection, response_timeout: int) -> None:
            ...

        async def start(self) -> None: ...

        async def route_message(self, raw_msg: str) -> None: ...

        async def _send(self, message: str) -> None: ...

        async def call(self, payload: Any) -> Any:
            """The payload class's answer (a library dataclass)."""
            ...

else:
    from ocpp.v16 import ChargePoint as _LibrarySide


class _Side(_LibrarySide):
    def __init__(
        self,
        cp_id: str,
        connection: ServerConnection,
        record: Record,
        transactions: Iterator[int],
    ) -> None:
        """`transactions`: the central system's one count, so that no two transactions,
        of any charge point or connection, share an id."""
        super().__init__(cp_id, connection, response_timeout=10)
        self._record = record
        self._transactions = transactions

    async def route_message(self, raw_msg: str) -> None:
        self._record(raw_msg, True)
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        self._record(message, False)
        await super()._send(message)

    @on(Action.boot_notification)
    def on_boot(self, **_payload: Any) -> Any:
        return call_result.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status(self, **_payload: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> Any:
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def on_start(self, **_payload: Any) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(self._transactions), id_tag_info={"status": "Accepted"}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **_payload: Any) -> Any:
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **_payload: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.security_event_notification)
    def on_security_event(self, **_payload: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_payload: Any) -> Any:
        return call_result.FirmwareStatusNotification()


class DemoCentralSystem:
    def __init__(self, record: Record) -> None:
        self._record = record
        self._transactions = itertools.count(1)
        self._server: Server | None = None
        self.side: _Side | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self) -> None:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp1.6")]
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        side = _Side(
            connection.request.path.rsplit("/", 1)[-1],
            connection,
            self._record,
            self._transactions,
        )
        self.side = side
        with contextlib.suppress(websockets.ConnectionClosed):
            await side.start()

    async def set_profile(self, transaction_id: int, limit_a: float, profile_id: int) -> str:
        """A TxProfile for the running transaction; answers the charge point's status."""
        assert self.side is not None
        profile = {
            "charging_profile_id": profile_id,
            "transaction_id": transaction_id,
            "stack_level": 0,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": {
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": limit_a}],
            },
        }
        answer = await self.side.call(call.SetChargingProfile(1, profile))
        return str(answer.status)
