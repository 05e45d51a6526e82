"""A CSMS for fleet benchmarks and tests, in its own process so its cost is not the fleet's:
the `ocpp` library's central-system side for OCPP 1.6 and 2.0.1, accepting every charge
point, each transaction its own id, every answer after `--delay-ms` (a deliberately slow
CSMS), printing every 2 s how many booted, started a transaction and sent MeterValues.

Run: python tests/bench/fleet_csms.py PORT [--delay-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import ServerConnection, serve

BOOTED: set[str] = set()
STARTED: set[str] = set()
METER_VALUES = [0]
TRANSACTIONS = itertools.count(1)
DELAY_S = [0.0]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def slow() -> None:
    if DELAY_S[0] > 0:
        await asyncio.sleep(DELAY_S[0])


class Side16(ChargePoint16):
    @on(Action16.boot_notification)
    async def on_boot(self, **_: Any) -> Any:
        await slow()
        BOOTED.add(self.id)
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action16.heartbeat)
    async def on_heartbeat(self) -> Any:
        await slow()
        return result16.Heartbeat(current_time=now())

    @on(Action16.status_notification)
    async def on_status(self, **_: Any) -> Any:
        await slow()
        return result16.StatusNotification()

    @on(Action16.authorize)
    async def on_authorize(self, **_: Any) -> Any:
        await slow()
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action16.start_transaction)
    async def on_start(self, **_: Any) -> Any:
        await slow()
        STARTED.add(self.id)
        return result16.StartTransaction(
            transaction_id=next(TRANSACTIONS), id_tag_info={"status": "Accepted"}
        )

    @on(Action16.stop_transaction)
    async def on_stop(self, **_: Any) -> Any:
        await slow()
        return result16.StopTransaction()

    @on(Action16.meter_values)
    async def on_meter_values(self, **_: Any) -> Any:
        await slow()
        METER_VALUES[0] += 1
        return result16.MeterValues()

    @on(Action16.security_event_notification)
    async def on_security_event(self, **_: Any) -> Any:
        await slow()
        return result16.SecurityEventNotification()


class Side201(ChargePoint201):
    @on(Action201.boot_notification)
    async def on_boot(self, **_: Any) -> Any:
        await slow()
        BOOTED.add(self.id)
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on(Action201.heartbeat)
    async def on_heartbeat(self) -> Any:
        await slow()
        return result201.Heartbeat(current_time=now())

    @on(Action201.status_notification)
    async def on_status(self, **_: Any) -> Any:
        await slow()
        return result201.StatusNotification()

    @on(Action201.authorize)
    async def on_authorize(self, **_: Any) -> Any:
        await slow()
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on(Action201.transaction_event)
    async def on_transaction_event(self, event_type: str, **payload: Any) -> Any:
        await slow()
        if event_type == "Started":
            STARTED.add(self.id)
        if event_type == "Updated" and payload.get("meter_value"):
            METER_VALUES[0] += 1
        return result201.TransactionEvent()

    @on(Action201.meter_values)
    async def on_meter_values(self, **_: Any) -> Any:
        await slow()
        return result201.MeterValues()

    @on(Action201.notify_event)
    async def on_notify_event(self, **_: Any) -> Any:
        await slow()
        return result201.NotifyEvent()

    @on(Action201.notify_charging_limit)
    async def on_notify_charging_limit(self, **_: Any) -> Any:
        await slow()
        return result201.NotifyChargingLimit()

    @on(Action201.cleared_charging_limit)
    async def on_cleared_charging_limit(self, **_: Any) -> Any:
        await slow()
        return result201.ClearedChargingLimit()

    @on(Action201.security_event_notification)
    async def on_security_event(self, **_: Any) -> Any:
        await slow()
        return result201.SecurityEventNotification()


async def handle(connection: ServerConnection) -> None:
    assert connection.request is not None
    name = connection.request.path.rsplit("/", 1)[-1]
    side_class = Side201 if connection.subprotocol == "ocpp2.0.1" else Side16
    side = side_class(name, connection, response_timeout=60)
    with contextlib.suppress(websockets.ConnectionClosed):
        await side.start()


async def main(port: int) -> None:
    async with serve(
        handle, "127.0.0.1", port, subprotocols=["ocpp1.6", "ocpp2.0.1"], max_queue=None
    ):
        while True:
            await asyncio.sleep(2)
            counts = f"booted {len(BOOTED)} started {len(STARTED)} meter_values {METER_VALUES[0]}"
            print(counts, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="before every answer")
    args = parser.parse_args()
    DELAY_S[0] = args.delay_ms / 1000
    asyncio.run(main(args.port))
