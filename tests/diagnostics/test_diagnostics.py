"""GetDiagnostics: the log and the box's non-secret state, uploaded to a real HTTP server,
with DiagnosticsStatusNotification Uploading then Uploaded (or UploadFailed)."""

from __future__ import annotations

import io
import json
import logging
import tarfile

import pytest
from ocpp.v16 import call

from tests.conftest import BenchClient
from tests.rigs.csms import TestCsms
from tests.rigs.file_servers import HttpFiles

KEY = "00112233445566778899aabbccddeeff"


async def test_diagnostics_carry_the_log_and_the_state_but_no_secret(
    box: BenchClient, csms: TestCsms, files: HttpFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert (await csms.call(call.ChangeConfiguration("AuthorizationKey", KEY))).status == "Accepted"
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "Charging")
    mark = len(csms.received)
    answer = await csms.call(call.GetDiagnostics(f"{files.base}/files/", retries=0))
    assert answer.file_name.startswith("pievse-0001-diagnostics-")
    await csms.wait_for(
        "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded", since=mark, timeout=10
    )
    assert [p["status"] for p in csms.of("DiagnosticsStatusNotification", mark)] == [
        "Uploading",
        "Uploaded",
    ]
    with tarfile.open(fileobj=io.BytesIO(files.uploads[answer.file_name])) as archive:
        log_text = archive.extractfile("pievse.log").read().decode()  # type: ignore[union-attr]
        state_text = archive.extractfile("state.json").read().decode()  # type: ignore[union-attr]
    assert "connector 1: Charging" in log_text
    state = json.loads(state_text)
    assert state["status"]["connectors"]["1"]["status"] == "Charging"
    assert state["sessions"][0]["id_tag"] == "CARD-1"
    assert {entry["key"] for entry in state["configuration"]} >= {"HeartbeatInterval"}
    assert KEY not in state_text
    # the test CSMS runs in this process, and its library logs what it sends
    assert KEY not in "\n".join(line for line in log_text.splitlines() if " ocpp: " not in line)
    assert "AuthorizationKey" not in {entry["key"] for entry in state["configuration"]}
    mark = len(csms.received)
    await csms.call(call.TriggerMessage("DiagnosticsStatusNotification"))
    idle = await csms.wait_for("DiagnosticsStatusNotification", since=mark)
    assert idle["status"] == "Idle"


async def test_a_failed_diagnostics_upload_says_so(
    box: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    mark = len(csms.received)
    await csms.call(call.GetDiagnostics(f"{files.base}/broken/", retries=1, retry_interval=0))
    await csms.wait_for(
        "DiagnosticsStatusNotification",
        lambda p: p["status"] == "UploadFailed",
        since=mark,
        timeout=10,
    )
    assert files.hits["broken"] == 2
