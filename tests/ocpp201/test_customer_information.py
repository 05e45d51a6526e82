"""N09, N10: CustomerInformation reports what the box keeps about a driver's token and
forgets it on request: the cache entry, the token in ended sessions (in the SQLite file), a
reservation (ReservationStatusUpdate Removed); the CSMS's local list entry stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ocpp.v201 import call

from pievse.firmware.ocpp201.blocks.customer_information import pages
from tests.conftest import BenchClient
from tests.rigs.csms import now_iso
from tests.rigs.csms201 import TestCsms201

DRIVER = {"idToken": "DRIVER-7", "type": "ISO14443"}


async def ask(csms: TestCsms201, request_id: int, **request: Any) -> tuple[str, str]:
    """(status, the report's text with its pages joined)."""
    mark = len(csms.received)
    answer = await csms.call(call.CustomerInformation(request_id=request_id, **request))
    if answer.status != "Accepted":
        return answer.status, ""
    await csms.wait_for(
        "NotifyCustomerInformation",
        lambda p: p["request_id"] == request_id and not p.get("tbc", False),
        since=mark,
    )
    pages = [p for p in csms.of("NotifyCustomerInformation", mark) if p["request_id"] == request_id]
    assert [p["seq_no"] for p in pages] == list(range(len(pages)))
    assert all(len(p["data"]) <= 512 for p in pages)
    return answer.status, "\n".join(p["data"] for p in pages)


async def test_a_drivers_data_is_reported_then_forgotten(
    box: BenchClient, csms: TestCsms201
) -> None:
    for _ in range(2):
        mark = len(csms.received)
        await box.bench("ev", state="C")
        await box.bench("tag", id_tag="DRIVER-7")
        await csms.wait_event("Started", since=mark)
        await box.bench("ev", state="A")
        await csms.wait_event("Ended", since=mark)
    listed = await csms.call(
        call.SendLocalList(
            version_number=2,
            update_type="Full",
            local_authorization_list=[{"idToken": DRIVER, "idTokenInfo": {"status": "Accepted"}}],
        )
    )
    assert listed.status == "Accepted"
    reserved = await csms.call(
        call.ReserveNow(id=9, expiry_date_time=now_iso(timedelta(minutes=10)), id_token=DRIVER)
    )
    assert reserved.status == "Accepted"
    await csms.wait_status(1, "Reserved")

    status, text = await ask(csms, 1, report=True, clear=False, id_token=DRIVER)
    assert status == "Accepted"
    assert "local list: Accepted" in text
    assert "authorization cache: Accepted" in text
    assert text.count("session ") == 2 and "kWh" in text
    assert "reservation 9" in text

    mark = len(csms.received)
    status, text = await ask(csms, 2, report=True, clear=True, id_token=DRIVER)
    assert "session " in text and "cleared" in text, "what there was, then that it is gone"
    removed = await csms.wait_for("ReservationStatusUpdate", since=mark)
    assert removed == {"reservation_id": 9, "reservation_update_status": "Removed"}
    await csms.wait_status(1, "Available", since=mark)

    _, text = await ask(csms, 3, report=True, clear=False, id_token=DRIVER)
    assert text == "local list: Accepted", "only the CSMS's own list keeps the token"
    database = box.wallbox.store.db
    assert (
        database.execute("SELECT COUNT(*) FROM sessions WHERE id_tag='DRIVER-7'").fetchone()[0] == 0
    )
    assert database.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2, (
        "the sessions stay, without the token"
    )
    assert (await csms.call(call.GetLocalListVersion())).version_number == 2
    assert csms.protocol_errors == []


async def test_what_the_box_cannot_know_is_reported_as_nothing(
    box: BenchClient, csms: TestCsms201
) -> None:
    _, text = await ask(csms, 4, report=True, clear=False, customer_identifier="ACME-42")
    assert text == "No data found"
    _, text = await ask(
        csms, 5, report=False, clear=True, id_token={"idToken": "NOBODY", "type": "Central"}
    )
    assert "cleared" in text
    status, _ = await ask(csms, 6, report=True, clear=False)
    assert status == "Invalid", "no customer named"
    status, _ = await ask(csms, 7, report=False, clear=False, id_token=DRIVER)
    assert status == "Invalid", "nothing asked"
    assert csms.protocol_errors == []


@given(
    lines=st.lists(st.text(alphabet="ab c", min_size=1, max_size=40), max_size=30),
    size=st.integers(5, 60),
)
def test_pages_hold_every_line_within_the_size(lines: list[str], size: int) -> None:
    paged = pages(lines, size)
    assert all(0 < len(page) <= size for page in paged)
    assert "".join(paged).replace("\n", "") == "".join(lines)
    if all(len(line) <= size for line in lines):
        assert "\n".join(paged) == "\n".join(lines), "short lines are never split"
