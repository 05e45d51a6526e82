"""Reservations (OCPP 1.6 5.13) against the CSMS on loopback: every ReserveNow answer,
Reserved status, who may use a reservation, expiry, cancellation, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def _reserve(
    csms: TestCsms,
    reservation_id: int = 7,
    id_tag: str = "RESERVED",
    connector_id: int = 1,
    seconds: float = 600,
    parent_id_tag: str | None = None,
) -> str:
    answer = await csms.call(
        call.ReserveNow(
            connector_id=connector_id,
            expiry_date=_in(seconds),
            id_tag=id_tag,
            reservation_id=reservation_id,
            parent_id_tag=parent_id_tag,
        )
    )
    return answer.status


async def _no_session_for(box: BenchClient, tag: str) -> None:
    await box.bench("tag", id_tag=tag)
    await asyncio.sleep(0.5)
    assert (await box.status())["session"] is None


async def test_a_reservation_holds_the_connector_for_its_driver_only(
    box: BenchClient, csms: TestCsms
) -> None:
    mark = len(csms.received)
    assert await _reserve(csms) == "Accepted"
    await csms.wait_status(1, "Reserved", since=mark)
    status = await box.status()
    assert status["reservation"]["id"] == 7
    assert status["connectors"]["1"]["status"] == "Reserved"
    await box.bench("ev", state="C")
    await _no_session_for(box, "SOMEONE-ELSE")
    assert "StartTransaction" not in csms.actions(mark)
    await box.bench("tag", id_tag="RESERVED")
    start = await csms.wait_for("StartTransaction", since=mark)
    assert start["reservation_id"] == 7
    assert start["id_tag"] == "RESERVED"
    await csms.wait_status(1, "Charging", since=mark)
    assert (await box.status())["reservation"] is None, "used up by the start"
    later = len(csms.received)
    await box.bench("ev", state="A")
    await csms.wait_status(1, "Available", since=later)
    assert "Reserved" not in csms.statuses(1, later)


async def test_a_card_of_the_reserved_group_may_use_the_reservation(
    box: BenchClient, csms: TestCsms
) -> None:
    csms.script.parents.update({"MEMBER": "FLEET", "OUTSIDER": "OTHER-FLEET"})
    assert await _reserve(csms, id_tag="LEADER", parent_id_tag="FLEET") == "Accepted"
    await box.bench("ev", state="C")
    await _no_session_for(box, "OUTSIDER")
    mark = len(csms.received)
    await box.bench("tag", id_tag="MEMBER")
    start = await csms.wait_for("StartTransaction", since=mark)
    assert start["id_tag"] == "MEMBER"
    assert start["reservation_id"] == 7


async def test_connector_zero_reservation_keeps_the_outlet_for_the_driver(
    box: BenchClient, csms: TestCsms
) -> None:
    mark = len(csms.received)
    assert await _reserve(csms, connector_id=0) == "Accepted"
    await csms.wait_status(1, "Reserved", since=mark)
    assert csms.statuses(0, mark) == [], "connector 0 is the box, not an outlet"
    await box.bench("ev", state="C")
    await _no_session_for(box, "SOMEONE-ELSE")
    await box.bench("tag", id_tag="RESERVED")
    assert (await csms.wait_for("StartTransaction", since=mark))["reservation_id"] == 7


async def test_occupied_while_an_ev_is_plugged_in_or_charging(
    box: BenchClient, csms: TestCsms
) -> None:
    await box.bench("ev", state="B")
    await box.wait_status("1", "Preparing")
    assert await _reserve(csms) == "Occupied"
    await charge_under_csms(box, csms)
    assert await _reserve(csms) == "Occupied"
    assert (await box.status())["reservation"] is None


async def test_occupied_by_another_reservation_and_replaced_by_the_same_id(
    box: BenchClient, csms: TestCsms
) -> None:
    assert await _reserve(csms, reservation_id=1, id_tag="FIRST") == "Accepted"
    assert await _reserve(csms, reservation_id=2, id_tag="SECOND") == "Occupied"
    assert await _reserve(csms, reservation_id=1, id_tag="FIRST-AGAIN") == "Accepted"
    reservation = (await box.status())["reservation"]
    assert (reservation["id"], reservation["id_tag"]) == (1, "FIRST-AGAIN")


async def test_faulted_when_the_connector_is_faulted(box: BenchClient, csms: TestCsms) -> None:
    await box.bench("fault", fault="rcd", active=True)
    await box.wait_status("1", "Faulted")
    assert await _reserve(csms) == "Faulted"


async def test_faulted_when_the_box_is_faulted(box: BenchClient, csms: TestCsms) -> None:
    await box.bench("fault", fault="overtemperature", active=True)
    await box.wait_status("0", "Faulted")
    assert await _reserve(csms) == "Faulted"


async def test_unavailable_when_inoperative(box: BenchClient, csms: TestCsms) -> None:
    answer = await csms.call(call.ChangeAvailability(connector_id=1, type="Inoperative"))
    assert answer.status == "Accepted"
    assert await _reserve(csms) == "Unavailable"


@pytest.mark.parametrize(("connector_id", "seconds"), [(2, 600), (1, -60)])
async def test_rejected_for_no_such_connector_or_a_past_expiry(
    box: BenchClient, csms: TestCsms, connector_id: int, seconds: float
) -> None:
    assert await _reserve(csms, connector_id=connector_id, seconds=seconds) == "Rejected"


async def test_a_reservation_expires(box: BenchClient, csms: TestCsms) -> None:
    mark = len(csms.received)
    assert await _reserve(csms, seconds=1.0) == "Accepted"
    await csms.wait_status(1, "Reserved", since=mark)
    await csms.wait_status(1, "Available", since=mark + 1, timeout=3)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="ANYONE")
    start = await csms.wait_for("StartTransaction", since=mark)
    assert "reservation_id" not in start


async def test_cancel_reservation(box: BenchClient, csms: TestCsms) -> None:
    assert await _reserve(csms) == "Accepted"
    await box.wait_status("1", "Reserved")
    assert (await csms.call(call.CancelReservation(reservation_id=99))).status == "Rejected"
    mark = len(csms.received)
    assert (await csms.call(call.CancelReservation(reservation_id=7))).status == "Accepted"
    await csms.wait_status(1, "Available", since=mark)
    assert (await csms.call(call.CancelReservation(reservation_id=7))).status == "Rejected"


async def test_remote_start_on_a_reserved_connector(box: BenchClient, csms: TestCsms) -> None:
    assert await _reserve(csms) == "Accepted"
    await box.bench("ev", state="C")
    other = await csms.call(call.RemoteStartTransaction(id_tag="SOMEONE-ELSE"))
    assert other.status == "Rejected"
    mark = len(csms.received)
    mine = await csms.call(call.RemoteStartTransaction(id_tag="RESERVED"))
    assert mine.status == "Accepted"
    assert (await csms.wait_for("StartTransaction", since=mark))["reservation_id"] == 7


async def test_a_reservation_survives_a_restart(tmp_path: Path, csms: TestCsms) -> None:
    config = ocpp_config(csms)
    async with running_wallbox(tmp_path, config) as box:
        await csms.wait_status(1, "Available")
        assert await _reserve(csms) == "Accepted"
        await box.wait_status("1", "Reserved")
    mark = len(csms.received)
    async with running_wallbox(tmp_path, config) as box:
        await csms.wait_status(1, "Reserved", since=mark)
        await box.bench("ev", state="C")
        await _no_session_for(box, "SOMEONE-ELSE")
