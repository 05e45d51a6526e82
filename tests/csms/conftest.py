"""The shared OCPP core against either front: a `front` fixture over 1.6 and 2.0.1, with a
real CSMS of that version on loopback, and the little a test must know of each wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16

from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.charging_profiles import profile as profile16
from tests.rigs.csms import TestCsms
from tests.rigs.csms201 import TestCsms201, charging_profile

VARIABLES = {
    "AllowOfflineTxForUnknownId": ({"name": "AuthCtrlr"}, "OfflineTxForUnknownIdEnabled"),
    "MeterValueSampleInterval": ({"name": "SampledDataCtrlr"}, "TxUpdatedInterval"),
}
"""1.6 key -> the 2.0.1 variable over the same storage."""
TRANSACTION = {
    "StartTransaction": "start",
    "MeterValues": "value",
    "StopTransaction": "end",
}
EVENTS = {"Started": "start", "Updated": "value", "Ended": "end"}


@dataclass
class Front:
    """One version's CSMS and how the shared behaviour shows on its wire."""

    version: str
    csms: TestCsms

    @property
    def modern(self) -> bool:
        return self.version == "2.0.1"

    async def configure(self, **keys: str) -> None:
        """ChangeConfiguration on 1.6, SetVariables of the same keys on 2.0.1."""
        if not self.modern:
            await self.csms.configure(**keys)
            return
        assert isinstance(self.csms, TestCsms201)
        for key, value in keys.items():
            component, name = VARIABLES[key]
            assert await self.csms.set_variable(component, name, value) == "Accepted", key

    def transaction(self, since: int = 0) -> list[str]:
        """start, value..., end as the wire put them, in order."""
        if self.modern:
            return [EVENTS[e["event_type"]] for e in self.csms.of("TransactionEvent", since)]
        return [TRANSACTION[a] for a in self.csms.actions(since) if a in TRANSACTION]

    async def charge(self, box: BenchClient) -> None:
        """EV in C and a card presented, until the CSMS has heard the transaction charging
        (1.6: StartTransaction and the outlet Charging; 2.0.1: ChargingStateChanged)."""
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="CARD-1")
        if self.modern:
            assert isinstance(self.csms, TestCsms201)
            await self.csms.wait_event("Updated", "ChargingStateChanged")
            return
        await self.csms.wait_status(1, "Charging")
        await self.csms.wait_for("StartTransaction")

    async def wait_end(self, since: int = 0, timeout: float = 10.0) -> dict[str, Any]:
        if self.modern:
            return await self.csms.wait_for(
                "TransactionEvent", lambda e: e["event_type"] == "Ended", timeout, since
            )
        return await self.csms.wait_for("StopTransaction", timeout=timeout, since=since)

    def stop_reason(self, end: dict[str, Any]) -> str:
        return end["transaction_info"]["stopped_reason"] if self.modern else end["reason"]

    def connector_statuses(self, since: int = 0) -> list[str]:
        """What the CSMS heard of the outlet (1.6 connector 1, 2.0.1 EVSE 1 connector 1)."""
        return self.csms.statuses(1, since)

    def idle(self) -> str:
        return "Available"

    def busy(self) -> str:
        """What a plugged-in EV shows: Preparing on 1.6, Occupied on 2.0.1."""
        return "Occupied" if self.modern else "Preparing"

    async def limit_station(self, amps: float) -> None:
        """A station-wide maximum profile of `amps` from now on."""
        if self.modern:
            assert isinstance(self.csms, TestCsms201)
            body = charging_profile(7, "ChargingStationMaxProfile", limit=amps)
            assert await self.csms.set_charging_profile(0, body) == "Accepted"
            return
        body = profile16(7, "ChargePointMaxProfile", periods=[(0, amps)], kind="Absolute")
        answer = await self.csms.call(
            call16.SetChargingProfile(connector_id=0, cs_charging_profiles=body)
        )
        assert answer.status == "Accepted"


@pytest.fixture(params=["1.6", "2.0.1"])
async def front(request: pytest.FixtureRequest) -> AsyncIterator[Front]:
    csms = TestCsms201() if request.param == "2.0.1" else TestCsms()
    await csms.start()
    yield Front(request.param, csms)
    await csms.stop()
    assert not csms.protocol_errors, f"the CSMS refused frames: {csms.protocol_errors}"


@pytest.fixture
async def box(tmp_path: Path, front: Front) -> AsyncIterator[BenchClient]:
    """A wallbox registered with the front's CSMS, its outlet reported Available."""
    async with running_wallbox(tmp_path, ocpp_config(front.csms)) as client:
        await front.csms.wait_status(1, "Available")
        yield client
