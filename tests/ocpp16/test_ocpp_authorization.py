"""Authorization rules against the CSMS on loopback: cache, local list, offline decisions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms


async def _go_offline(box: BenchClient, csms: TestCsms) -> None:
    await csms.stop()
    await box.wait_for(lambda s: not s["ocpp"]["connected"])


async def _tag_starts_a_session(box: BenchClient, tag: str) -> bool:
    """Presents `tag` with the EV plugged in; whether a session started."""
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag=tag)
    try:
        await box.wait_for(lambda s: s["session"] is not None, timeout=1.5)
    except AssertionError:
        return False
    return True


async def _authorize_online(box: BenchClient, csms: TestCsms, tag: str) -> None:
    """The tag is presented with no EV: Authorize.req, then the authorization lapses."""
    await csms.configure(ConnectionTimeOut="1")
    mark = len(csms.received)
    await box.bench("tag", id_tag=tag)
    await csms.wait_for("Authorize", since=mark)
    await box.wait_status("1", "Preparing")
    await box.wait_status("1", "Available")


def _entry(tag: str, status: str | None = "Accepted", **info: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"idTag": tag}
    if status is not None:
        entry["idTagInfo"] = {"status": status, **info}
    return entry


async def _send_list(csms: TestCsms, version: int, update: str, entries: list) -> str:
    answer = await csms.call(
        call.SendLocalList(
            list_version=version, update_type=update, local_authorization_list=entries
        )
    )
    return answer.status


async def test_a_tag_the_csms_accepted_is_cached_and_charges_offline(
    box: BenchClient, csms: TestCsms
) -> None:
    await _authorize_online(box, csms, "CACHED")
    await _go_offline(box, csms)
    assert await _tag_starts_a_session(box, "CACHED")


async def test_unknown_tags_offline_are_refused_unless_allowed(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.configure(AllowOfflineTxForUnknownId="false")
    await _go_offline(box, csms)
    assert not await _tag_starts_a_session(box, "STRANGER")


async def test_allow_offline_tx_for_unknown_id(box: BenchClient, csms: TestCsms) -> None:
    await csms.configure(AllowOfflineTxForUnknownId="true")
    await _go_offline(box, csms)
    assert await _tag_starts_a_session(box, "STRANGER")


async def test_cache_disabled_or_cleared_forgets_the_tag(box: BenchClient, csms: TestCsms) -> None:
    await _authorize_online(box, csms, "CACHED")
    assert (await csms.call(call.ClearCache())).status == "Accepted"
    await _go_offline(box, csms)
    assert not await _tag_starts_a_session(box, "CACHED")


async def test_a_cached_tag_past_its_expiry_is_refused_offline(
    box: BenchClient, csms: TestCsms
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    csms.script.expiry["BRIEF"] = soon
    await _authorize_online(box, csms, "BRIEF")
    await _go_offline(box, csms)
    await asyncio.sleep(1.0)
    assert not await _tag_starts_a_session(box, "BRIEF")


async def test_a_blocked_start_answer_updates_the_cache(box: BenchClient, csms: TestCsms) -> None:
    csms.script.start_status = "Blocked"  # accepted by Authorize, blocked at start
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="TURNED")
    stop = await csms.wait_for("StopTransaction")
    assert stop["reason"] == "DeAuthorized"
    await box.bench("ev", state="A")
    await box.wait_for(lambda s: s["session"] is None)
    await _go_offline(box, csms)
    assert not await _tag_starts_a_session(box, "TURNED")


async def test_local_list_versions(box: BenchClient, csms: TestCsms) -> None:
    version = await csms.call(call.GetLocalListVersion())
    assert version.list_version == 0, "no list installed"
    assert await _send_list(csms, 1, "Full", [_entry("A"), _entry("B", "Blocked")]) == "Accepted"
    assert (await csms.call(call.GetLocalListVersion())).list_version == 1
    assert await _send_list(csms, 1, "Differential", [_entry("C")]) == "VersionMismatch"
    assert await _send_list(csms, 2, "Differential", [_entry("C"), _entry("A", None)]) == (
        "Accepted"
    )
    assert (await csms.call(call.GetLocalListVersion())).list_version == 2
    assert await _send_list(csms, 3, "Full", [_entry("D", None)]) == "Failed"
    assert await _send_list(csms, 3, "Full", [_entry("D"), _entry("D")]) == "Failed"
    assert (await csms.call(call.GetLocalListVersion())).list_version == 2, "nothing changed"
    assert await _send_list(csms, 5, "Full", []) == "Accepted", "an empty full list clears it"
    assert (await csms.call(call.GetLocalListVersion())).list_version == 5
    await csms.configure(LocalAuthListEnabled="false")
    assert (await csms.call(call.GetLocalListVersion())).list_version == -1
    assert await _send_list(csms, 6, "Full", [_entry("E")]) == "NotSupported"


async def test_send_local_list_larger_than_send_local_list_max_length_fails(
    box: BenchClient, csms: TestCsms
) -> None:
    keys = await csms.call(call.GetConfiguration(key=["SendLocalListMaxLength"]))
    limit = int(keys.configuration_key[0]["value"])
    entries = [_entry(f"T{i}") for i in range(limit + 1)]
    assert await _send_list(csms, 1, "Full", entries) == "Failed"


@pytest.mark.parametrize(
    ("status", "charges"), [("Accepted", True), ("Blocked", False), ("Expired", False)]
)
async def test_local_list_decides_offline(
    box: BenchClient, csms: TestCsms, status: str, charges: bool
) -> None:
    assert await _send_list(csms, 1, "Full", [_entry("LISTED", status)]) == "Accepted"
    await _go_offline(box, csms)
    assert await _tag_starts_a_session(box, "LISTED") is charges


async def test_local_list_expiry_date_turns_a_tag_expired(box: BenchClient, csms: TestCsms) -> None:
    past = "2020-01-01T00:00:00Z"
    assert await _send_list(csms, 1, "Full", [_entry("OLD", expiryDate=past)]) == "Accepted"
    await _go_offline(box, csms)
    assert not await _tag_starts_a_session(box, "OLD")


async def test_local_authorize_offline_off_refuses_even_listed_tags(
    box: BenchClient, csms: TestCsms
) -> None:
    assert await _send_list(csms, 1, "Full", [_entry("LISTED")]) == "Accepted"
    await csms.configure(LocalAuthorizeOffline="false")
    await _go_offline(box, csms)
    assert not await _tag_starts_a_session(box, "LISTED")


async def test_local_pre_authorize_starts_without_asking(box: BenchClient, csms: TestCsms) -> None:
    assert await _send_list(csms, 1, "Full", [_entry("LISTED")]) == "Accepted"
    await csms.configure(LocalPreAuthorize="true")
    mark = len(csms.received)
    assert await _tag_starts_a_session(box, "LISTED")
    await csms.wait_for("StartTransaction", since=mark)
    assert "Authorize" not in csms.actions(mark)


async def test_without_pre_authorize_the_csms_is_asked_first(
    box: BenchClient, csms: TestCsms
) -> None:
    assert await _send_list(csms, 1, "Full", [_entry("LISTED")]) == "Accepted"
    csms.script.tags["LISTED"] = "Blocked"  # the CSMS knows better than the list
    mark = len(csms.received)
    assert not await _tag_starts_a_session(box, "LISTED")
    assert "Authorize" in csms.actions(mark)


async def test_a_card_of_the_same_group_stops_the_session(box: BenchClient, csms: TestCsms) -> None:
    csms.script.parents.update({"DAD": "FAMILY", "MUM": "FAMILY", "NEIGHBOUR": "NEXT-DOOR"})
    await charge_under_csms(box, csms, tag="DAD")
    mark = len(csms.received)
    await box.bench("tag", id_tag="NEIGHBOUR")
    await csms.wait_for("Authorize", lambda p: p["id_tag"] == "NEIGHBOUR", since=mark)
    await asyncio.sleep(0.3)
    assert "StopTransaction" not in csms.actions(mark), "another group's card stops nothing"
    await box.bench("tag", id_tag="MUM")
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert (stop["reason"], stop["id_tag"]) == ("Local", "MUM")


async def test_a_card_without_a_group_stops_only_its_own_session(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms, tag="LONER")
    mark = len(csms.received)
    await box.bench("tag", id_tag="SOMEONE")
    await asyncio.sleep(0.4)
    assert "StopTransaction" not in csms.actions(mark)
    assert "Authorize" not in csms.actions(mark), "no group to look up"


async def test_concurrent_tx_stops_the_start_but_is_not_cached(
    box: BenchClient, csms: TestCsms
) -> None:
    await _authorize_online(box, csms, "BUSY")  # cached as Accepted
    csms.script.start_status = "ConcurrentTx"  # busy at another charge point right now
    mark = len(csms.received)
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="BUSY")
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "DeAuthorized"
    await box.bench("ev", state="A")
    await box.wait_for(lambda s: s["session"] is None)
    await _go_offline(box, csms)
    assert await _tag_starts_a_session(box, "BUSY"), "the cache still says Accepted"
