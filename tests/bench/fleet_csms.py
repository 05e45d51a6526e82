"""A CSMS for the fleet benchmark, in its own process so its cost is not the fleet's: the
`ocpp` library's central-system side accepting every charge point, printing every 2 s how
many booted, started a transaction and sent MeterValues.

Run: python tests/bench/fleet_csms.py PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import ServerConnection, serve

BOOTED: set[str] = set()
STARTED: set[str] = set()
METER_VALUES = [0]
TRANSACTIONS = itertools.count(1)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Side(ChargePoint):
    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        BOOTED.add(self.id)
        return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> Any:
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def on_start(self, **_: Any) -> Any:
        STARTED.add(self.id)
        return call_result.StartTransaction(
            transaction_id=next(TRANSACTIONS), id_tag_info={"status": "Accepted"}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **_: Any) -> Any:
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        METER_VALUES[0] += 1
        return call_result.MeterValues()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()


async def handle(connection: ServerConnection) -> None:
    assert connection.request is not None
    side = Side(connection.request.path.rsplit("/", 1)[-1], connection, response_timeout=60)
    with contextlib.suppress(websockets.ConnectionClosed):
        await side.start()


async def main(port: int) -> None:
    async with serve(handle, "127.0.0.1", port, subprotocols=["ocpp1.6"], max_queue=None):
        while True:
            await asyncio.sleep(2)
            counts = f"booted {len(BOOTED)} started {len(STARTED)} meter_values {METER_VALUES[0]}"
            print(counts, flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
