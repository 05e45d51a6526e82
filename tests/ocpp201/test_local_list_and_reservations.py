"""D01, D02, H01-H04 on 2.0.1: the local list decides offline, a reservation holds the EVSE
for its token (and its group) and the Started event names it."""

from __future__ import annotations

from datetime import timedelta

from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.rigs.csms import now_iso
from tests.rigs.csms201 import TestCsms201


def token(value: str) -> dict[str, str]:
    return {"idToken": value, "type": "ISO14443"}


async def test_the_local_list_is_versioned_and_refuses_what_does_not_fit(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert (await csms.call(call.GetLocalListVersion())).version_number == 0
    full = await csms.call(
        call.SendLocalList(
            version_number=3,
            update_type="Full",
            local_authorization_list=[
                {"idToken": token("LIST-1"), "idTokenInfo": {"status": "Accepted"}},
                {"idToken": token("LIST-2"), "idTokenInfo": {"status": "Blocked"}},
            ],
        )
    )
    assert full.status == "Accepted"
    assert (await csms.call(call.GetLocalListVersion())).version_number == 3
    stale = await csms.call(
        call.SendLocalList(
            version_number=2,
            update_type="Differential",
            local_authorization_list=[{"idToken": token("LIST-3")}],
        )
    )
    assert stale.status == "VersionMismatch"
    incomplete = await csms.call(
        call.SendLocalList(
            version_number=4,
            update_type="Full",
            local_authorization_list=[{"idToken": token("LIST-4")}],
        )
    )
    assert incomplete.status == "Failed"
    assert (await csms.call(call.GetLocalListVersion())).version_number == 3, "nothing changed"
    listed = box.wallbox.ocpp.authorizer.local("LIST-2")
    assert listed is not None and listed.status == "Blocked"
    assert csms.protocol_errors == []


async def test_a_reservation_holds_the_evse_for_its_token_and_its_group(
    box: BenchClient, csms: TestCsms201
) -> None:
    later = now_iso(timedelta(minutes=10))
    reserved = await csms.call(
        call.ReserveNow(
            id=5,
            expiry_date_time=later,
            id_token=token("OWNER"),
            evse_id=1,
            group_id_token={"idToken": "FAMILY", "type": "Central"},
        )
    )
    assert reserved.status == "Accepted"
    await csms.wait_status(1, "Reserved")
    other = await csms.call(call.ReserveNow(id=6, expiry_date_time=later, id_token=token("X")))
    assert other.status == "Occupied"
    expired = await csms.call(
        call.ReserveNow(id=7, expiry_date_time=now_iso(-timedelta(minutes=1)), id_token=token("Y"))
    )
    assert expired.status == "Rejected"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="OWNER")
    started = await csms.wait_event("Started")
    assert started["reservation_id"] == 5
    assert (await csms.call(call.CancelReservation(reservation_id=5))).status == "Rejected"
    assert csms.protocol_errors == []


async def test_a_cancelled_reservation_frees_the_evse(box: BenchClient, csms: TestCsms201) -> None:
    later = now_iso(timedelta(minutes=10))
    assert (
        await csms.call(call.ReserveNow(id=9, expiry_date_time=later, id_token=token("A")))
    ).status == "Accepted"
    await csms.wait_status(1, "Reserved")
    start = len(csms.received)
    assert (await csms.call(call.CancelReservation(reservation_id=9))).status == "Accepted"
    await csms.wait_status(1, "Available", since=start)
    assert csms.protocol_errors == []


async def test_an_expired_reservation_is_reported_and_frees_the_evse(
    box: BenchClient, csms: TestCsms201
) -> None:
    soon = now_iso(timedelta(seconds=2))
    assert (
        await csms.call(call.ReserveNow(id=12, expiry_date_time=soon, id_token=token("LATE")))
    ).status == "Accepted"
    await csms.wait_status(1, "Reserved")
    update = await csms.wait_for("ReservationStatusUpdate", timeout=6)
    assert update == {"reservation_id": 12, "reservation_update_status": "Expired"}
    await csms.wait_status(1, "Available", since=len(csms.received) - 2, timeout=4)
    assert csms.protocol_errors == []
