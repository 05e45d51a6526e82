"""Requests of one action that overlap (OCPP-J allows one at a time; the box answers up to
16): each handler's `after` step acts on its own request and answer, so no report carries
another request's requestId or content, no remote start another's token, no trigger is lost.
The CALLs go out in one write, so the box has all of them before it answers the first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ocpp.v201 import call

from tests.conftest import BenchClient, ocpp_config, running_wallbox, until
from tests.rigs.csms import now_iso
from tests.rigs.csms201 import TestCsms201, charging_profile
from tests.rigs.file_servers import HttpFiles
from tests.rigs.pki import Pki, pem
from tests.rigs.release_rig import UPDATE, Bundles
from tests.rigs.security_rig import root_file, serving

CONNECTOR = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}


def accepted(answers: list[Any]) -> list[dict[str, Any]]:
    assert all(a[0] == 3 for a in answers), answers
    return [a[2] for a in answers]


async def report_of(
    csms: TestCsms201, action: str, request_id: int, key: str, since: int
) -> list[Any]:
    """The entries under `key` of every page of one requestId, pages in order."""
    await csms.wait_for(
        action, lambda p: p["request_id"] == request_id and not p.get("tbc"), since=since
    )
    pages = [p for p in csms.of(action, since) if p["request_id"] == request_id]
    if "seq_no" in pages[0]:
        assert [p["seq_no"] for p in pages] == list(range(len(pages)))
    return [entry for page in pages for entry in page.get(key, [])]


async def test_overlapping_base_reports_keep_their_own_request_ids(
    box: BenchClient, csms: TestCsms201
) -> None:
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [2, "full", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}],
            [2, "summary", "GetBaseReport", {"requestId": 2, "reportBase": "SummaryInventory"}],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    full = await report_of(csms, "NotifyReport", 1, "report_data", mark)
    summary = await report_of(csms, "NotifyReport", 2, "report_data", mark)
    assert len(full) > 32, "the whole model, over more than one page"
    assert {e["variable"]["name"] for e in summary} == {"AvailabilityState"}
    assert len(summary) == 3
    assert csms.protocol_errors == []


async def test_overlapping_get_reports_keep_their_own_selection(
    box: BenchClient, csms: TestCsms201
) -> None:
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [
                2,
                "evse",
                "GetReport",
                {"requestId": 3, "componentVariable": [{"component": {"name": "EVSE"}}]},
            ],
            [
                2,
                "clock",
                "GetReport",
                {"requestId": 4, "componentVariable": [{"component": {"name": "ClockCtrlr"}}]},
            ],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    evse = await report_of(csms, "NotifyReport", 3, "report_data", mark)
    clock = await report_of(csms, "NotifyReport", 4, "report_data", mark)
    assert {e["component"]["name"] for e in evse} == {"EVSE"}
    assert {e["component"]["name"] for e in clock} == {"ClockCtrlr"}
    assert csms.protocol_errors == []


async def test_overlapping_monitoring_reports_keep_their_own_criteria(
    box: BenchClient, csms: TestCsms201
) -> None:
    mark = len(csms.received)
    problem = {"component": CONNECTOR, "variable": {"name": "Problem"}}
    answers = await csms.send_together(
        [
            [2, "all", "GetMonitoringReport", {"requestId": 5}],
            [2, "one", "GetMonitoringReport", {"requestId": 6, "componentVariable": [problem]}],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    every = await report_of(csms, "NotifyMonitoringReport", 5, "monitor", mark)
    one = await report_of(csms, "NotifyMonitoringReport", 6, "monitor", mark)
    assert len(every) == 2, "both hard-wired Problem monitors"
    assert [m["component"]["name"] for m in one] == ["Connector"]
    assert csms.protocol_errors == []


async def test_overlapping_profile_reports_keep_their_own_criteria(
    box: BenchClient, csms: TestCsms201
) -> None:
    assert await csms.set_charging_profile(1, charging_profile(4, limit=20.0)) == "Accepted"
    assert await csms.set_charging_profile(1, charging_profile(5, limit=10.0, stack_level=1)) == (
        "Accepted"
    )
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [2, "a", "GetChargingProfiles", {"requestId": 7, "chargingProfile": {}}],
            [
                2,
                "b",
                "GetChargingProfiles",
                {"requestId": 8, "chargingProfile": {"chargingProfileId": [5]}},
            ],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    both = await report_of(csms, "ReportChargingProfiles", 7, "charging_profile", mark)
    five = await report_of(csms, "ReportChargingProfiles", 8, "charging_profile", mark)
    assert sorted(p["id"] for p in both) == [4, 5]
    assert [p["id"] for p in five] == [5]
    assert csms.protocol_errors == []


async def test_overlapping_customer_requests_report_their_own_customer(
    box: BenchClient, csms: TestCsms201
) -> None:
    listed = {"idToken": {"idToken": "LISTED", "type": "ISO14443"}}
    listed["idTokenInfo"] = {"status": "Accepted"}
    await csms.send_together(
        [
            [
                2,
                "list",
                "SendLocalList",
                {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [listed]},
            ]
        ]
    )
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [
                2,
                f"c{n}",
                "CustomerInformation",
                {
                    "requestId": n,
                    "report": True,
                    "clear": False,
                    "idToken": {"idToken": token, "type": "ISO14443"},
                },
            ]
            for n, token in ((1, "LISTED"), (2, "STRANGER"))
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    await report_of(csms, "NotifyCustomerInformation", 1, "data", mark)
    await report_of(csms, "NotifyCustomerInformation", 2, "data", mark)
    text = {p["request_id"]: p["data"] for p in csms.of("NotifyCustomerInformation", mark)}
    assert text == {1: "local list: Accepted", 2: "No data found"}
    assert csms.protocol_errors == []


async def test_overlapping_triggers_each_send_their_message(
    box: BenchClient, csms: TestCsms201
) -> None:
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [2, "t1", "TriggerMessage", {"requestedMessage": "Heartbeat"}],
            [2, "t2", "TriggerMessage", {"requestedMessage": "StatusNotification"}],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    await csms.wait_for("Heartbeat", since=mark)
    await csms.wait_for("StatusNotification", since=mark)
    assert csms.protocol_errors == []


async def test_overlapping_remote_starts_begin_one_session_with_its_own_id(
    box: BenchClient, csms: TestCsms201
) -> None:
    """AuthorizeRemoteStart: each `after` step waits for its Authorize, so both are in
    flight at once; the last to be authorized starts, with its own remoteStartId and
    TxProfile."""
    assert (
        await csms.set_variable({"name": "AuthCtrlr"}, "AuthorizeRemoteStart", "true") == "Accepted"
    )
    answers = await csms.send_together(
        [
            [
                2,
                f"r{n}",
                "RequestStartTransaction",
                {
                    "remoteStartId": n,
                    "idToken": {"idToken": f"APP-{n}", "type": "Central"},
                    "chargingProfile": charging_profile(n, "TxProfile", limit=float(n)),
                },
            ]
            for n in (11, 7)
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "Accepted"]
    await box.bench("ev", state="C")
    started = await csms.wait_event("Started")
    number = started["transaction_info"]["remote_start_id"]
    assert started["id_token"]["id_token"] == f"APP-{number}"
    await csms.wait_event("Updated", "ChargingStateChanged")
    await box.wait_for(lambda s: s["pilot"]["offered_a"] == float(number)), "its TxProfile"
    assert len(csms.of("Authorize")) == 2
    assert csms.protocol_errors == []


async def test_overlapping_log_requests_upload_the_last_one_told(
    box: BenchClient, csms: TestCsms201, files: HttpFiles
) -> None:
    """One upload at a time: the second request cancels the first before it began
    (AcceptedCanceled), and only its file goes up, under its requestId."""
    mark = len(csms.received)
    answers = await csms.send_together(
        [
            [
                2,
                f"l{n}",
                "GetLog",
                {
                    "logType": "DiagnosticsLog",
                    "requestId": n,
                    "log": {"remoteLocation": f"{files.base}/files/"},
                },
            ]
            for n in (9, 10)
        ]
    )
    first, second = accepted(answers)
    assert (first["status"], second["status"]) == ("Accepted", "AcceptedCanceled")
    await csms.wait_for(
        "LogStatusNotification", lambda p: p["status"] == "Uploaded", since=mark, timeout=8
    )
    assert list(files.uploads) == [second["filename"]]
    assert {p.get("request_id") for p in csms.of("LogStatusNotification", mark)} == {10}
    assert csms.protocol_errors == []


async def test_overlapping_resets_end_the_transaction_once_and_restart_once(
    box: BenchClient, csms: TestCsms201
) -> None:
    """OnIdle (Scheduled: a transaction runs) and Immediate together: the Immediate one
    ends the transaction and restarts; the OnIdle one, whose idle moment that made, is the
    same restart, not a second."""
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-3")
    await csms.wait_event("Started")
    answers = await csms.send_together(
        [
            [2, "idle", "Reset", {"type": "OnIdle"}],
            [2, "now", "Reset", {"type": "Immediate"}],
            [2, "now-too", "Reset", {"type": "Immediate"}],
        ]
    )
    assert [a["status"] for a in accepted(answers)] == ["Scheduled", "Accepted", "Accepted"]
    ended = await csms.wait_event("Ended")
    assert ended["transaction_info"]["stopped_reason"] == "ImmediateReset"
    await until(lambda: bool(box.resets), timeout=5)
    await asyncio.sleep(1.0)
    assert box.resets == ["Hard"]
    assert [e["event_type"] for e in csms.events()].count("Ended") == 1
    told = [p for p in csms.of("SecurityEventNotification") if p["type"] == "ResetOrReboot"]
    assert len(told) == 1, told
    assert csms.protocol_errors == []


async def test_overlapping_signings_install_the_certificate_of_the_last_request(
    tmp_path: Path,
) -> None:
    """A02 twice at once: the first CSR's certificate is Rejected (its key was replaced by
    the second's, which stays pending), the second's Accepted, a second certificate for the
    key already used Rejected; the installed certificate and key belong together."""
    pki = Pki()
    async with serving(TestCsms201()) as csms:
        lines = f'profile = 0\n{root_file(tmp_path, pki)}\ncpo_name = "Test CPO"'
        async with running_wallbox(tmp_path, ocpp_config(csms, security=lines)):
            await csms.wait_status(1, "Available", timeout=8)
            mark = len(csms.received)
            trigger = {"requestedMessage": "SignChargingStationCertificate"}
            triggers = await csms.send_together(
                [[2, f"t{n}", "TriggerMessage", trigger] for n in (1, 2)]
            )
            assert [a["status"] for a in accepted(triggers)] == ["Accepted", "Accepted"]
            await until(lambda: len(csms.of("SignCertificate", mark)) == 2)
            requests = csms.of("SignCertificate", mark)
            older, newer, again = (pki.sign_csr(r["csr"]) for r in (*requests, requests[1]))
            station = "ChargingStationCertificate"
            answers = await csms.send_together(
                [
                    [
                        2,
                        name,
                        "CertificateSigned",
                        {"certificateChain": pem(issued), "certificateType": station},
                    ]
                    for name, issued in (("old", older), ("new", newer), ("twice", again))
                ]
            )
            assert [a["status"] for a in accepted(answers)] == ["Rejected", "Accepted", "Rejected"]
            certs = tmp_path / "data" / "certs"
            chain = x509.load_pem_x509_certificate((certs / "charge-point.pem").read_bytes())
            assert chain.serial_number == newer.serial_number
            key = serialization.load_pem_private_key(
                (certs / "charge-point.key").read_bytes(), None
            )
            assert key.public_key() == chain.public_key()
            assert csms.protocol_errors == []


@pytest.fixture
async def updatable(
    tmp_path: Path, csms: TestCsms201, bundles: Bundles, files: HttpFiles
) -> AsyncIterator[BenchClient]:
    """A box that trusts the maker's root, with the update bundle served."""
    files.serve[f"{UPDATE}.bundle"] = bundles.path(UPDATE).read_bytes()
    root = tmp_path / "maker-root.pem"
    root.write_text(bundles.maker.root.pem())
    extra = (
        f'\n[firmware]\ninstall_root = "{tmp_path}/opt/pievse"\n'
        "retries = 0\nretry_interval_s = 1\nverify_timeout_s = 10\n"
    )
    security = f'profile = 0\nmanufacturer_root_certificate = "{root}"'
    async with running_wallbox(tmp_path, ocpp_config(csms, extra, security)) as client:
        await csms.wait_status(1, "Available")
        yield client


def firmware(bundles: Bundles, location: str) -> dict[str, Any]:
    return {
        "location": location,
        "retrieveDateTime": now_iso(timedelta(seconds=-5)),
        "signingCertificate": bundles.signer.pem(),
        "signature": bundles.signature(UPDATE),
    }


async def test_an_update_while_one_downloads_cancels_it(
    updatable: BenchClient, csms: TestCsms201, files: HttpFiles, bundles: Bundles
) -> None:
    """L01.FR.24 (TC_L_10): the second UpdateFirmware is AcceptedCanceled, the first's
    download stops and it reports nothing more; the second reports its own requestId."""
    files.slow_s = 3.0
    mark = len(csms.received)
    slow = firmware(bundles, f"{files.base}/slow/{UPDATE}.bundle")
    first = await csms.call(call.UpdateFirmware(request_id=50, firmware=slow))
    assert first.status == "Accepted"
    await csms.wait_for(
        "FirmwareStatusNotification",
        lambda p: p["status"] == "Downloading" and p["request_id"] == 50,
        since=mark,
    )
    missing = firmware(bundles, f"{files.base}/files/missing.bundle")
    second = await csms.call(call.UpdateFirmware(request_id=51, firmware=missing))
    assert second.status == "AcceptedCanceled"
    await csms.wait_for(
        "FirmwareStatusNotification",
        lambda p: p["status"] == "DownloadFailed" and p["request_id"] == 51,
        since=mark,
        timeout=20,
    )
    await asyncio.sleep(files.slow_s + 1.0)
    told = [(p["request_id"], p["status"]) for p in csms.of("FirmwareStatusNotification", mark)]
    assert told == [(50, "Downloading"), (51, "Downloading"), (51, "DownloadFailed")]
    assert not updatable.wallbox.releases.directory(UPDATE).exists()
    assert updatable.resets == []
    assert csms.protocol_errors == []


async def test_updates_that_arrive_together_run_the_second(
    updatable: BenchClient, csms: TestCsms201, files: HttpFiles, bundles: Bundles
) -> None:
    mark = len(csms.received)
    missing = firmware(bundles, f"{files.base}/files/missing.bundle")
    answers = await csms.send_together(
        [[2, f"u{n}", "UpdateFirmware", {"requestId": n, "firmware": missing}] for n in (52, 53)]
    )
    assert [a["status"] for a in accepted(answers)] == ["Accepted", "AcceptedCanceled"]
    await csms.wait_for(
        "FirmwareStatusNotification", lambda p: p["status"] == "DownloadFailed", since=mark
    )
    await asyncio.sleep(1.0)
    told = [(p["request_id"], p["status"]) for p in csms.of("FirmwareStatusNotification", mark)]
    assert told == [(53, "Downloading"), (53, "DownloadFailed")]
    assert csms.protocol_errors == []
