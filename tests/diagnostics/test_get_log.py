"""GetLog with uploads received by real servers on loopback (HTTP PUT and POST, FTP), every
LogStatusNotification state, and ExtendedTriggerMessage for each message it names."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.conftest import BenchClient
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import FtpFiles, HttpFiles


@pytest.fixture(autouse=True)
def info_logging(caplog: pytest.LogCaptureFixture) -> None:
    """As `pievse run` logs: INFO and up reach the diagnostics log."""
    caplog.set_level(logging.INFO)


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[FtpFiles]:
    server = FtpFiles(tmp_path / "ftp")
    yield server
    server.close()


async def get_log(
    csms: TestCsms, location: str, log_type: str = "DiagnosticsLog", request_id: int = 7, **extra
):  # type: ignore[no-untyped-def]
    window = extra.pop("window", {})
    return await csms.call(
        call.GetLog(
            log_type=log_type,
            request_id=request_id,
            log={"remoteLocation": location, **window},
            **extra,
        )
    )


async def log_statuses(csms: TestCsms, request_id: int, final: str, since: int = 0) -> list[str]:
    await csms.wait_for(
        "LogStatusNotification",
        lambda p: p["status"] == final and p.get("request_id") == request_id,
        timeout=8,
        since=since,
    )
    return [
        p["status"]
        for p in csms.of("LogStatusNotification", since)
        if p.get("request_id") == request_id
    ]


async def test_the_diagnostics_log_is_put_where_the_csms_says(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    answer = await get_log(csms, f"{files.base}/files/")
    assert answer.status == "Accepted"
    assert answer.filename.startswith("pievse-0001-diagnostics-7-")
    assert await log_statuses(csms, 7, "Uploaded") == ["Uploading", "Uploaded"]
    text = files.uploads[answer.filename].decode()
    assert "registered with the CSMS" in text
    assert text.splitlines()[0][:4] == "20" + now_iso()[2:4], "records start with their time"


async def test_the_security_log_and_a_time_window(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    answer = await get_log(csms, f"{files.base}/files/", "SecurityLog", 8)
    await log_statuses(csms, 8, "Uploaded")
    assert "StartupOfTheDevice" in files.uploads[answer.filename].decode()
    future = {"oldestTimestamp": now_iso(timedelta(hours=1))}
    answer = await get_log(csms, f"{files.base}/files/", "SecurityLog", 9, window=future)
    await log_statuses(csms, 9, "Uploaded")
    assert files.uploads[answer.filename] == b"", "nothing newer than an hour from now"


async def test_a_server_that_only_takes_post_gets_a_form(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    answer = await get_log(csms, f"{files.base}/post-only/")
    await log_statuses(csms, 7, "Uploaded")
    assert answer.filename in files.uploads


@pytest.mark.parametrize(
    ("location", "final", "hits"),
    [
        ("{base}/forbidden/", "PermissionDenied", 1),
        ("{base}/broken/", "UploadFailure", 3),
        ("not a location", "BadMessage", 0),
        ("sftp://127.0.0.1/logs/", "NotSupportedOperation", 0),
    ],
)
async def test_each_failure_has_its_status(
    box: BenchClient, csms: TestCsms, files: HttpFiles, location: str, final: str, hits: int
) -> None:
    answer = await get_log(csms, location.format(base=files.base), retries=2, retry_interval=0)
    assert answer.status == "Accepted"
    statuses = await log_statuses(csms, 7, final)
    assert statuses[-1] == final
    assert statuses[0] == ("Uploading" if hits else final)
    kind = location.split("/")[1] if location.startswith("{base}") else ""
    assert files.hits.get(kind, 0) == hits, "a refusal is not retried, a failure is"


async def test_idle_uploading_and_a_new_request_canceling_the_running_one(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    mark = len(csms.received)
    await csms.call(call.ExtendedTriggerMessage("LogStatusNotification"))
    idle = await csms.wait_for("LogStatusNotification", since=mark)
    assert idle == {"status": "Idle"}
    files.slow_s = 3.0
    await get_log(csms, f"{files.base}/slow/", request_id=20)
    await csms.wait_for("LogStatusNotification", lambda p: p.get("request_id") == 20)
    mark = len(csms.received)
    await csms.call(call.ExtendedTriggerMessage("LogStatusNotification"))
    uploading = await csms.wait_for("LogStatusNotification", since=mark)
    assert uploading == {"status": "Uploading", "request_id": 20}
    second = await get_log(csms, f"{files.base}/files/", request_id=21)
    assert second.status == "AcceptedCanceled"
    await log_statuses(csms, 21, "Uploaded")
    await asyncio.sleep(0.2)
    assert not [
        p for p in csms.of("LogStatusNotification") if p == {"status": "Uploaded", "request_id": 20}
    ]


async def test_ftp_uploads_and_a_refused_login(
    box: BenchClient, csms: TestCsms, ftp: FtpFiles
) -> None:
    answer = await get_log(csms, ftp.url(""), "SecurityLog", 30)
    await log_statuses(csms, 30, "Uploaded")
    assert "StartupOfTheDevice" in (ftp.root / answer.filename).read_text()
    await get_log(csms, ftp.url("", password="wrong"), request_id=31)
    assert (await log_statuses(csms, 31, "PermissionDenied"))[-1] == "PermissionDenied"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("BootNotification", "BootNotification"),
        ("Heartbeat", "Heartbeat"),
        ("StatusNotification", "StatusNotification"),
        ("FirmwareStatusNotification", "SignedFirmwareStatusNotification"),
        ("SignChargePointCertificate", "SignCertificate"),
    ],
)
async def test_extended_trigger_message_sends_what_it_names(
    box: BenchClient, csms: TestCsms, message: str, expected: str
) -> None:
    mark = len(csms.received)
    answer = await csms.call(call.ExtendedTriggerMessage(message, connector_id=1))
    assert answer.status == "Accepted"
    await csms.wait_for(expected, since=mark)


async def test_extended_trigger_message_meter_values_and_a_wrong_connector(
    box: BenchClient, csms: TestCsms
) -> None:
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "Charging")
    mark = len(csms.received)
    await csms.call(call.ExtendedTriggerMessage("MeterValues", connector_id=1))
    values = await csms.wait_for(
        "MeterValues",
        lambda p: p["meter_value"][0]["sampled_value"][0].get("context") == "Trigger",
        since=mark,
    )
    assert values["connector_id"] == 1
    wrong = await csms.call(call.ExtendedTriggerMessage("Heartbeat", connector_id=5))
    assert wrong.status == "Rejected"
