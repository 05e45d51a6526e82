"""L01-L03 and N01 on 2.0.1: a signed UpdateFirmware installs the next A/B release and
reports each state with its requestId; GetLog uploads the log to a real server."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from ocpp.v201 import call

from tests.conftest import BenchClient
from tests.rigs.csms import now_iso
from tests.rigs.csms201 import TestCsms201
from tests.rigs.file_servers import HttpFiles
from tests.rigs.release_rig import BASE, UPDATE, Bundles
from tests.updates.test_firmware_update import installed_box


async def test_a_signed_update_installs_and_reports_in_2_0_1_terms(
    tmp_path: Path, bundles: Bundles, csms: TestCsms201, files: HttpFiles
) -> None:
    files.serve[f"{UPDATE}.bundle"] = bundles.path(UPDATE).read_bytes()
    root = tmp_path / "maker-root.pem"
    root.write_text(bundles.maker.root.pem())
    security = f'profile = 0\nmanufacturer_root_certificate = "{root}"'
    async with installed_box(tmp_path, bundles, csms, security=security) as box:
        await csms.wait_status(1, "Available", timeout=30)
        assert csms.of("BootNotification")[0]["charging_station"]["firmware_version"] == BASE
        unsigned = await csms.call(
            call.UpdateFirmware(
                request_id=1,
                firmware={"location": f"{files.base}/files/x", "retrieveDateTime": now_iso()},
            )
        )
        assert unsigned.status == "Rejected", "only signed firmware"
        refused = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidFirmwareSignature"
        )
        assert "no signature" in refused["tech_info"]
        mark = len(csms.received)
        firmware = {
            "location": f"{files.base}/files/{UPDATE}.bundle",
            "retrieveDateTime": now_iso(timedelta(seconds=1)),
            "signingCertificate": bundles.signer.pem(),
            "signature": bundles.signature(UPDATE),
        }
        answer = await csms.call(call.UpdateFirmware(request_id=42, firmware=firmware))
        assert answer.status == "Accepted"
        await csms.wait_for(
            "FirmwareStatusNotification", lambda p: p["status"] == "Installed", 60, mark
        )
        sent = csms.of("FirmwareStatusNotification", mark)
        assert [p["status"] for p in sent] == [
            "DownloadScheduled",
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        ]
        assert {p["request_id"] for p in sent} == {42}
        boots = csms.of("BootNotification", mark)
        assert boots[-1]["charging_station"]["firmware_version"] == UPDATE
        assert boots[-1]["reason"] == "FirmwareUpdate"
        assert box.releases.current() == UPDATE
        assert csms.protocol_errors == []


@pytest.fixture(autouse=True)
def info_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


async def test_get_log_uploads_and_reports_each_state(
    box: BenchClient, csms: TestCsms201, files: HttpFiles
) -> None:
    answer = await csms.call(
        call.GetLog(
            log_type="DiagnosticsLog", request_id=9, log={"remoteLocation": f"{files.base}/files/"}
        )
    )
    assert answer.status == "Accepted"
    await csms.wait_for(
        "LogStatusNotification",
        lambda p: p["status"] == "Uploaded" and p.get("request_id") == 9,
        timeout=8,
    )
    assert "registered with the CSMS" in files.uploads[answer.filename].decode()
    bad = await csms.call(
        call.GetLog(
            log_type="SecurityLog",
            request_id=10,
            log={"remoteLocation": f"{files.base}/files/", "oldestTimestamp": "yesterday"},
        )
    )
    assert bad.status == "Rejected"
    assert csms.protocol_errors == []
