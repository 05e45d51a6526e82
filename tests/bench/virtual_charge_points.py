"""The peer simulator for the fleet benchmark: N virtual charge points on the `ocpp`
library's charge-point side in one process, each a script (boot, Available, a card, a
transaction, MeterValues every 10 s, Heartbeat), not a controller.

Run: python tests/bench/virtual_charge_points.py N URL
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import UTC, datetime

import websockets
from ocpp.v16 import ChargePoint, call

METER_VALUES_S = 10.0
HEARTBEAT_S = 300.0


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def virtual_charge_point(name: str, url: str) -> None:
    async with websockets.connect(f"{url}/{name}", subprotocols=["ocpp1.6"]) as ws:
        cp = ChargePoint(name, ws, response_timeout=60)
        listener = asyncio.create_task(cp.start())
        await cp.call(
            call.BootNotification(charge_point_model="virtual", charge_point_vendor="bench")
        )
        await cp.call(call.StatusNotification(1, "NoError", "Available"))
        await cp.call(call.Authorize(f"TAG-{name}"[:20]))
        await cp.call(call.StatusNotification(1, "NoError", "Preparing"))
        started = await cp.call(call.StartTransaction(1, f"TAG-{name}"[:20], 0, now()))
        await cp.call(call.StatusNotification(1, "NoError", "Charging"))
        energy = 0.0
        beat = 0.0
        while True:
            await asyncio.sleep(METER_VALUES_S)
            energy += 11_000 * METER_VALUES_S / 3600
            sample = [
                {"value": f"{energy:.1f}", "measurand": "Energy.Active.Import.Register"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                *(
                    {"value": "16.0", "measurand": "Current.Import", "phase": f"L{p}", "unit": "A"}
                    for p in (1, 2, 3)
                ),
                {"value": "16.0", "measurand": "Current.Offered", "unit": "A"},
            ]
            await cp.call(
                call.MeterValues(
                    1,
                    [{"timestamp": now(), "sampled_value": sample}],
                    transaction_id=started.transaction_id,
                )
            )
            beat += METER_VALUES_S
            if beat >= HEARTBEAT_S:
                beat = 0.0
                await cp.call(call.Heartbeat())
        listener.cancel()


async def main(count: int, url: str) -> None:
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(virtual_charge_point(f"virtual-{i + 1:04d}", url)))
        await asyncio.sleep(1 / 50)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
