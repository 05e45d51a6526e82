"""1.6 requests of one action that overlap: each `after` step acts on its own request and
answer (the CALLs go out in one write, so the box has all of them before it answers)."""

from __future__ import annotations

import asyncio
from typing import Any

from ocpp.v16 import call

from tests.conftest import BenchClient, charge_under_csms, until
from tests.rigs.csms import TestCsms
from tests.rigs.file_servers import HttpFiles


def tx_profile(profile_id: int, limit: float) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def results(answers: list[Any]) -> list[dict[str, Any]]:
    assert all(a[0] == 3 for a in answers), answers
    return [a[2] for a in answers]


async def test_overlapping_remote_starts_begin_with_their_own_profile(
    box: BenchClient, csms: TestCsms
) -> None:
    """Each after step waits for its Authorize, so both are in flight at once; the last one
    authorized is the one the session begins with, with its own TxProfile."""
    await csms.configure(AuthorizeRemoteTxRequests="true")
    answers = await csms.send_together(
        [
            [
                2,
                f"r{n}",
                "RemoteStartTransaction",
                {"idTag": f"APP-{n}", "connectorId": 1, "chargingProfile": tx_profile(n, n)},
            ]
            for n in (11, 7)
        ]
    )
    assert [r["status"] for r in results(answers)] == ["Accepted", "Accepted"]
    await box.bench("ev", state="C")
    started = await csms.wait_for("StartTransaction")
    number = int(started["id_tag"].removeprefix("APP-"))
    await box.wait_for(lambda s: s["pilot"]["offered_a"] == float(number))
    assert len(csms.of("Authorize")) == 2
    assert csms.protocol_errors == []


async def test_overlapping_triggers_each_send_their_message(
    box: BenchClient, csms: TestCsms
) -> None:
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [2, "t1", "TriggerMessage", {"requestedMessage": "Heartbeat"}],
            [2, "t2", "TriggerMessage", {"requestedMessage": "StatusNotification"}],
            [2, "t3", "ExtendedTriggerMessage", {"requestedMessage": "MeterValues"}],
            [2, "t4", "ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"}],
        ]
    )
    assert [r["status"] for r in results(answers)] == ["Accepted"] * 4
    await csms.wait_for("MeterValues", since=mark)
    await csms.wait_for("StatusNotification", since=mark)
    await csms.wait_for("Heartbeat", lambda _p: len(csms.of("Heartbeat", mark)) == 2, since=mark)
    assert csms.protocol_errors == []


async def test_overlapping_diagnostics_upload_once(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    """The second request replaces the first (one upload of a kind at a time); the file
    the CSMS was told is the one uploaded."""
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [2, f"d{n}", "GetDiagnostics", {"location": f"{files.base}/files/", "retries": 0}]
            for n in (1, 2)
        ]
    )
    names = [r["fileName"] for r in results(answers)]
    await csms.wait_for(
        "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded", since=mark, timeout=10
    )
    assert list(files.uploads) == [names[1]]
    assert [p["status"] for p in csms.of("DiagnosticsStatusNotification", mark)] == [
        "Uploading",
        "Uploaded",
    ]
    assert csms.protocol_errors == []


async def test_overlapping_log_requests_upload_the_last_one_told(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    mark = len(csms.received)
    location = {"remoteLocation": f"{files.base}/files/"}
    answers = await csms.send_together(
        [
            [2, f"l{n}", "GetLog", {"logType": "SecurityLog", "requestId": n, "log": location}]
            for n in (3, 4)
        ]
    )
    first, second = results(answers)
    assert (first["status"], second["status"]) == ("Accepted", "AcceptedCanceled")
    await csms.wait_for(
        "LogStatusNotification", lambda p: p["status"] == "Uploaded", since=mark, timeout=8
    )
    assert list(files.uploads) == [second["filename"]]
    assert {p.get("request_id") for p in csms.of("LogStatusNotification", mark)} == {4}
    assert csms.protocol_errors == []


async def test_overlapping_resets_end_the_session_once_and_restart_once(
    box: BenchClient, csms: TestCsms
) -> None:
    """A Hard reset while a Soft one still waits for its StopTransaction to be delivered:
    both Accepted (the box does reset), one StopTransaction, one restart, the Hard one (it
    does not wait for the Soft one's delivery)."""
    await charge_under_csms(box, csms)
    mark = len(csms.received)
    answers = await csms.send_together(
        [[2, "soft", "Reset", {"type": "Soft"}], [2, "hard", "Reset", {"type": "Hard"}]]
    )
    assert [r["status"] for r in results(answers)] == ["Accepted", "Accepted"]
    stop = await csms.wait_for("StopTransaction", since=mark)
    assert stop["reason"] == "SoftReset", "the first reset ended it"
    await until(lambda: bool(box.resets), timeout=5)
    await asyncio.sleep(1.0)
    assert box.resets == ["Hard"]
    assert csms.actions(mark).count("StopTransaction") == 1
    assert (await box.status())["contactor"] == "open"
    assert csms.protocol_errors == []


async def test_a_reset_while_one_restarts_is_accepted_and_restarts_nothing_more(
    box: BenchClient, csms: TestCsms
) -> None:
    assert (await csms.call(call.Reset(type="Hard"))).status == "Accepted"
    await until(lambda: bool(box.resets), timeout=5)
    assert (await csms.call(call.Reset(type="Soft"))).status == "Accepted"
    await asyncio.sleep(0.5)
    assert box.resets == ["Hard"]
    told = [p for p in csms.of("SecurityEventNotification") if p["type"] == "ResetOrReboot"]
    assert len(told) == 1, told
