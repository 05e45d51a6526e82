"""Firmware updates end to end on loopback: real bundles (deploy/make_bundle.py) served over
HTTP, a box installed with deploy/install.sh running from its release, the CSMS on the `ocpp`
library. Each case checks the exact notification sequence on the wire."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import call

from pievse.firmware.updates.releases import Releases
from pievse.firmware.updates.signed_update_request import SignedUpdateRequests
from tests.conftest import BenchClient, ocpp_config, running_wallbox, until
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import HttpFiles
from tests.rigs.process import free_port
from tests.rigs.release_rig import (
    BASE,
    DOES_NOT_RUN,
    NEVER_REGISTERS,
    UPDATE,
    Bundles,
    install,
)


@pytest.fixture(autouse=True)
def served(files: HttpFiles, bundles: Bundles) -> None:
    """The bundles on the HTTP server with their signature and signing certificate beside
    them (as plain UpdateFirmware finds them), a tampered one beside the signature of the
    original, and a signed file that is not a bundle."""
    for version in (BASE, UPDATE, NEVER_REGISTERS, DOES_NOT_RUN):
        files.serve[f"{version}.bundle"] = bundles.path(version).read_bytes()
    for version in (UPDATE, NEVER_REGISTERS, DOES_NOT_RUN):
        files.serve[f"{version}.bundle.sig"] = bundles.signature(version).encode()
        files.serve[f"{version}.bundle.pem"] = bundles.signer.pem().encode()
    files.serve["tampered.bundle"] = bundles.tampered().read_bytes()
    files.serve["tampered.bundle.sig"] = bundles.signature(UPDATE).encode()
    files.serve["tampered.bundle.pem"] = bundles.signer.pem().encode()
    hello = b"hello"
    files.serve["not-a-bundle.bundle"] = hello
    signature = bundles.signer.key.sign(hello, ec.ECDSA(hashes.SHA256()))
    files.serve["not-a-bundle.bundle.sig"] = base64.b64encode(signature)
    files.serve["not-a-bundle.bundle.pem"] = bundles.signer.pem().encode()


def maker_root(tmp_path: Path, bundles: Bundles) -> str:
    """The [security] lines that provision the maker's root from the config file."""
    root = tmp_path / "maker-root.pem"
    root.write_text(bundles.maker.root.pem())
    return f'profile = 0\nmanufacturer_root_certificate = "{root}"'


def statuses(csms: TestCsms, action: str, since: int) -> list[str]:
    return [p["status"] for p in csms.of(action, since)]


async def final(csms: TestCsms, action: str, status: str, since: int, timeout: float = 60) -> None:
    await csms.wait_for(action, lambda p: p["status"] == status, timeout, since)


# --- a box running from its installed release ------------------------------------------------


@dataclass
class InstalledBox:
    prefix: Path
    process: asyncio.subprocess.Process
    log: Path

    @property
    def releases(self) -> Releases:
        return Releases(self.prefix / "opt" / "pievse")


@contextlib.asynccontextmanager
async def installed_box(
    tmp_path: Path,
    bundles: Bundles,
    csms: TestCsms,
    verify_timeout_s: int = 8,
    security: str | None = None,
) -> AsyncIterator[InstalledBox]:
    security = security or maker_root(tmp_path, bundles)
    prefix = tmp_path / "root"
    await asyncio.to_thread(install, prefix, bundles.path(BASE))
    config = prefix / "etc" / "pievse" / "pievse.toml"
    config.write_text(
        ocpp_config(csms, security=security)
        + f'\n[firmware]\ninstall_root = "{prefix}/opt/pievse"\n'
        + f"verify_timeout_s = {verify_timeout_s}\nretries = 1\nretry_interval_s = 1\n"
    )
    log = tmp_path / "box.log"
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "VIRTUAL_ENV")}
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(prefix / "opt" / "pievse" / "current" / "venv" / "bin" / "pievse"),
            "run",
            "--config",
            str(config),
            "--data-dir",
            str(prefix / "var" / "lib" / "pievse"),
            "--api",
            f"127.0.0.1:{free_port()}",
            stdout=out,
            stderr=out,
            env=env,
        )
    try:
        yield InstalledBox(prefix, process, log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 15)
        if process.returncode is None:
            process.kill()
            await process.wait()


async def registered_as(csms: TestCsms, version: str, since: int = 0) -> None:
    await csms.wait_for(
        "BootNotification", lambda p: p["firmware_version"] == version, timeout=30, since=since
    )
    await csms.wait_status(0, "Available", since=since, timeout=30)


def boots(csms: TestCsms) -> list[str]:
    versions = [p["firmware_version"] for p in csms.of("BootNotification")]
    return [v for n, v in enumerate(versions) if n == 0 or versions[n - 1] != v]


async def test_update_firmware_installs_restarts_and_reports_installed(
    tmp_path: Path, bundles: Bundles, csms: TestCsms, files: HttpFiles
) -> None:
    async with installed_box(tmp_path, bundles, csms) as box:
        await registered_as(csms, BASE)
        mark = len(csms.received)
        update = call.UpdateFirmware(f"{files.base}/files/{UPDATE}.bundle", now_iso())
        await csms.call(update)
        await final(csms, "FirmwareStatusNotification", "Installed", mark)
        assert statuses(csms, "FirmwareStatusNotification", mark) == [
            "Downloading",
            "Downloaded",
            "Installing",
            "Installed",
        ]
        assert boots(csms) == [BASE, UPDATE]
        received = csms.received[mark:]
        rebooted = next(n for n, r in enumerate(received) if r.action == "BootNotification")
        installed = next(
            n
            for n, r in enumerate(received)
            if r.action == "FirmwareStatusNotification" and r.payload["status"] == "Installed"
        )
        assert rebooted < installed, "Installed comes from the new release, once registered"
        event = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated", since=mark
        )
        assert event["tech_info"] == f"{BASE} -> {UPDATE}"
        assert (box.releases.current(), box.releases.previous()) == (UPDATE, BASE)
        assert box.process.returncode is None, "the same process (PID) runs the new release"
        mark = len(csms.received)
        await csms.call(call.TriggerMessage("FirmwareStatusNotification"))
        idle = await csms.wait_for("FirmwareStatusNotification", since=mark)
        assert idle["status"] == "Idle"


async def test_signed_update_with_every_state_to_installed(
    tmp_path: Path, bundles: Bundles, csms: TestCsms, files: HttpFiles
) -> None:
    async with installed_box(tmp_path, bundles, csms) as box:
        await registered_as(csms, BASE)
        mark = len(csms.received)
        firmware = {
            "location": f"{files.base}/files/{UPDATE}.bundle",
            "retrieveDateTime": now_iso(timedelta(seconds=2)),
            "signingCertificate": bundles.signer.pem(),
            "signature": bundles.signature(UPDATE),
        }
        answer = await csms.call(call.SignedUpdateFirmware(request_id=41, firmware=firmware))
        assert answer.status == "Accepted"
        await final(csms, "SignedFirmwareStatusNotification", "Installed", mark)
        sent = csms.of("SignedFirmwareStatusNotification", mark)
        assert [p["status"] for p in sent] == [
            "DownloadScheduled",
            "Downloading",
            "Downloaded",
            "SignatureVerified",
            "Installing",
            "InstallRebooting",
            "Installed",
        ]
        assert {p["request_id"] for p in sent} == {41}
        assert boots(csms) == [BASE, UPDATE]
        assert box.releases.current() == UPDATE


async def test_a_release_that_never_registers_is_rolled_back(
    tmp_path: Path, bundles: Bundles, csms: TestCsms, files: HttpFiles
) -> None:
    csms.script.reject_firmware = {NEVER_REGISTERS}
    async with installed_box(tmp_path, bundles, csms, verify_timeout_s=6) as box:
        await registered_as(csms, BASE)
        mark = len(csms.received)
        await csms.call(
            call.UpdateFirmware(f"{files.base}/files/{NEVER_REGISTERS}.bundle", now_iso())
        )
        await final(csms, "FirmwareStatusNotification", "InstallationFailed", mark, timeout=90)
        assert statuses(csms, "FirmwareStatusNotification", mark) == [
            "Downloading",
            "Downloaded",
            "Installing",
            "InstallationFailed",
        ]
        assert boots(csms) == [BASE, NEVER_REGISTERS, BASE]
        assert box.releases.current() == BASE
        assert box.process.returncode is None


# --- failures that never switch: a box in this process -----------------------------------------


@pytest.fixture
async def updatable(tmp_path: Path, csms: TestCsms, bundles: Bundles) -> AsyncIterator[BenchClient]:
    extra = (
        f'\n[firmware]\ninstall_root = "{tmp_path}/opt/pievse"\n'
        "retries = 1\nretry_interval_s = 1\nverify_timeout_s = 10\n"
    )
    config = ocpp_config(csms, extra=extra, security=maker_root(tmp_path, bundles))
    async with running_wallbox(tmp_path, config) as client:
        await csms.wait_status(0, "Available")
        yield client


def _signed(bundles: Bundles, files: HttpFiles, name: str, version: str, signer=None):  # type: ignore[no-untyped-def]
    return {
        "location": f"{files.base}/files/{name}",
        # A moment ago: "now" by our clock can still be ahead of the box's, which it set
        # from the CSMS's BootNotification answer a little late.
        "retrieveDateTime": now_iso(timedelta(seconds=-5)),
        "signingCertificate": (signer or bundles.signer).pem(),
        "signature": bundles.signature(version),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing.bundle", ["Downloading", "Downloading", "DownloadFailed"]),
        ("tampered.bundle", ["Downloading", "Downloaded", "InstallationFailed"]),
        ("not-a-bundle.bundle", ["Downloading", "Downloaded", "InstallationFailed"]),
    ],
)
async def test_plain_update_failures(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, name: str, expected: list[str]
) -> None:
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware(f"{files.base}/files/{name}", now_iso()))
    await final(csms, "FirmwareStatusNotification", expected[-1], mark, timeout=20)
    assert statuses(csms, "FirmwareStatusNotification", mark) == expected
    assert not (updatable.wallbox.releases.root / "releases" / UPDATE).exists(), "nothing left"


async def test_a_location_that_is_not_one_fails_at_once(
    updatable: BenchClient, csms: TestCsms
) -> None:
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware("not a location", now_iso()))
    await final(csms, "FirmwareStatusNotification", "DownloadFailed", mark, timeout=10)
    assert statuses(csms, "FirmwareStatusNotification", mark) == ["Downloading", "DownloadFailed"]


async def test_signed_failures_download_paused_and_invalid_signature(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    mark = len(csms.received)
    missing = _signed(bundles, files, "missing.bundle", UPDATE)
    await csms.call(call.SignedUpdateFirmware(request_id=1, firmware=missing))
    await final(csms, "SignedFirmwareStatusNotification", "DownloadFailed", mark, timeout=20)
    assert statuses(csms, "SignedFirmwareStatusNotification", mark) == [
        "Downloading",
        "DownloadPaused",
        "Downloading",
        "DownloadFailed",
    ]
    mark = len(csms.received)
    tampered = _signed(bundles, files, "tampered.bundle", UPDATE)
    await csms.call(call.SignedUpdateFirmware(request_id=2, firmware=tampered))
    await final(csms, "SignedFirmwareStatusNotification", "InvalidSignature", mark, timeout=20)
    assert statuses(csms, "SignedFirmwareStatusNotification", mark) == [
        "Downloading",
        "Downloaded",
        "InvalidSignature",
    ]
    event = await csms.wait_for(
        "SecurityEventNotification", lambda p: p["type"] == "InvalidFirmwareSignature", since=mark
    )
    assert "does not match" in event["tech_info"]


async def test_a_signing_certificate_of_another_root_is_refused_before_any_download(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    stranger = _signed(bundles, files, f"{UPDATE}.bundle", UPDATE, signer=bundles.stranger)
    answer = await csms.call(call.SignedUpdateFirmware(request_id=4, firmware=stranger))
    assert answer.status == "InvalidCertificate"
    refused = await csms.wait_for(
        "SecurityEventNotification",
        lambda p: (
            p["type"] == "InvalidFirmwareSigningCertificate"
            and "does not lead to an installed" in p["tech_info"]
        ),
    )
    assert refused["tech_info"].endswith("ManufacturerRootCertificate")
    assert files.hits.get("files", 0) == 0, "nothing was downloaded"
    assert not csms.of("SignedFirmwareStatusNotification")


async def test_install_waits_for_the_transaction_and_a_release_that_does_not_run(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    await updatable.bench("ev", state="C")
    await updatable.bench("tag", id_tag="CARD-1")
    await csms.wait_status(1, "Charging")
    mark = len(csms.received)
    broken = _signed(bundles, files, f"{DOES_NOT_RUN}.bundle", DOES_NOT_RUN)
    await csms.call(call.SignedUpdateFirmware(request_id=9, firmware=broken))
    await final(csms, "SignedFirmwareStatusNotification", "InstallScheduled", mark, timeout=20)
    await csms.call(call.TriggerMessage("FirmwareStatusNotification"))
    triggered = await csms.wait_for("FirmwareStatusNotification", since=mark)
    assert triggered["status"] == "Downloaded", "the unsigned form's nearest state"
    await csms.call(call.ExtendedTriggerMessage("FirmwareStatusNotification"))
    await csms.wait_for(
        "SignedFirmwareStatusNotification",
        lambda p: p["status"] == "InstallScheduled" and p.get("request_id") == 9,
        since=mark + 4,
    )
    await asyncio.sleep(1.5)
    assert "Installing" not in statuses(csms, "SignedFirmwareStatusNotification", mark)
    await updatable.bench("ev", state="A")
    await csms.wait_for("StopTransaction", since=mark)
    await final(
        csms, "SignedFirmwareStatusNotification", "InstallVerificationFailed", mark, timeout=60
    )
    sent = statuses(csms, "SignedFirmwareStatusNotification", mark)
    assert sent[:4] == ["Downloading", "Downloaded", "SignatureVerified", "InstallScheduled"]
    assert sent[-2:] == ["Installing", "InstallVerificationFailed"]
    order = csms.actions(mark)
    stop = order.index("StopTransaction")
    assert [a for a in order[stop:] if a == "SignedFirmwareStatusNotification"], "after the stop"
    assert not (updatable.wallbox.releases.root / "releases" / DOES_NOT_RUN).exists()


async def test_a_new_request_cancels_the_one_under_way(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    later = _signed(bundles, files, f"{UPDATE}.bundle", UPDATE)
    later["retrieveDateTime"] = now_iso(timedelta(hours=1))
    first = await csms.call(call.SignedUpdateFirmware(request_id=10, firmware=later))
    assert first.status == "Accepted"
    await csms.wait_for(
        "SignedFirmwareStatusNotification", lambda p: p["status"] == "DownloadScheduled"
    )
    missing = _signed(bundles, files, "missing.bundle", UPDATE)
    second = await csms.call(call.SignedUpdateFirmware(request_id=11, firmware=missing))
    assert second.status == "AcceptedCanceled"
    await csms.wait_for(
        "SignedFirmwareStatusNotification",
        lambda p: p["status"] == "DownloadFailed" and p["request_id"] == 11,
        timeout=20,
    )


async def test_a_new_request_stops_the_install_under_way(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """Canceled while pip builds its release: the build stops, nothing is switched to."""
    first = _signed(bundles, files, f"{UPDATE}.bundle", UPDATE)
    await csms.call(call.SignedUpdateFirmware(request_id=20, firmware=first))
    await csms.wait_for(
        "SignedFirmwareStatusNotification", lambda p: p["status"] == "Installing", timeout=60
    )
    mark = len(csms.received)
    missing = _signed(bundles, files, "missing.bundle", UPDATE)
    second = await csms.call(call.SignedUpdateFirmware(request_id=21, firmware=missing))
    assert second.status == "AcceptedCanceled"
    await csms.wait_for(
        "SignedFirmwareStatusNotification",
        lambda p: p["status"] == "DownloadFailed" and p["request_id"] == 21,
        timeout=30,
    )
    await asyncio.sleep(2)
    late = [p for p in csms.of("SignedFirmwareStatusNotification", mark) if p["request_id"] == 20]
    assert late == [], "the canceled update said nothing more"
    releases = updatable.wallbox.releases
    assert not releases.directory(UPDATE).exists(), "its half-made release is gone"
    assert releases.current() is None
    assert updatable.resets == []


# --- requests that overlap --------------------------------------------------------------------


async def test_signed_requests_that_arrive_together_cancel_the_first(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """Both answered before either update began: the second is the one that cancels, so it
    says AcceptedCanceled; only its update runs and reports."""
    mark = len(csms.received)
    missing = _signed(bundles, files, "missing.bundle", UPDATE)
    answers = await csms.send_together(
        [
            [2, f"u{n}", "SignedUpdateFirmware", {"requestId": n, "firmware": missing}]
            for n in (30, 31)
        ]
    )
    assert [a[2]["status"] for a in answers] == ["Accepted", "AcceptedCanceled"]
    await final(csms, "SignedFirmwareStatusNotification", "DownloadFailed", mark, timeout=20)
    await asyncio.sleep(1.5)
    told = csms.of("SignedFirmwareStatusNotification", mark)
    assert {p["request_id"] for p in told} == {31}
    assert [p["status"] for p in told] == [
        "Downloading",
        "DownloadPaused",
        "Downloading",
        "DownloadFailed",
    ]


async def test_a_plain_update_replaces_the_one_downloading(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles
) -> None:
    """1.6's UpdateFirmware has no answer to say so: the second one replaces the first,
    whose download stops; only the second's outcome is reported."""
    files.slow_s = 3.0
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware(f"{files.base}/slow/{UPDATE}.bundle", now_iso()))
    await csms.wait_for(
        "FirmwareStatusNotification", lambda p: p["status"] == "Downloading", since=mark
    )
    await csms.call(call.UpdateFirmware(f"{files.base}/files/missing.bundle", now_iso()))
    await final(csms, "FirmwareStatusNotification", "DownloadFailed", mark, timeout=20)
    await asyncio.sleep(files.slow_s + 1.0)
    assert statuses(csms, "FirmwareStatusNotification", mark) == [
        "Downloading",
        "Downloading",
        "Downloading",
        "DownloadFailed",
    ]
    assert not updatable.wallbox.releases.directory(UPDATE).exists()
    assert updatable.resets == []


async def test_the_same_update_again_during_its_install_installs_once(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """The second request for the release being built cancels the first build; the second
    build begins only once the first has stopped and cleared its half-made release, so it
    is not removed under the second's feet."""
    update = _signed(bundles, files, f"{UPDATE}.bundle", UPDATE)
    await csms.call(call.SignedUpdateFirmware(request_id=40, firmware=update))
    await csms.wait_for(
        "SignedFirmwareStatusNotification", lambda p: p["status"] == "Installing", timeout=60
    )
    mark = len(csms.received)
    again = await csms.call(call.SignedUpdateFirmware(request_id=41, firmware=update))
    assert again.status == "AcceptedCanceled"
    await final(csms, "SignedFirmwareStatusNotification", "InstallRebooting", mark, timeout=90)
    told = csms.of("SignedFirmwareStatusNotification", mark)
    assert {p["request_id"] for p in told} == {41}
    assert updatable.wallbox.releases.current() == UPDATE
    assert updatable.wallbox.releases.is_complete(UPDATE)
    assert updatable.resets == ["Firmware"]


async def test_a_reset_during_a_download_restarts_once_and_the_update_reports_its_end(
    tmp_path: Path, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """The reset is the CSMS's to ask; the update it interrupts ends as DownloadFailed,
    told (durably) after the restart instead of never."""
    files.slow_s = 5.0
    extra = f'\n[firmware]\ninstall_root = "{tmp_path}/opt/pievse"\nretries = 0\n'
    config = ocpp_config(csms, extra=extra, security=maker_root(tmp_path, bundles))
    async with running_wallbox(tmp_path, config) as box:
        await csms.wait_status(0, "Available")
        slow = _signed(bundles, files, f"{UPDATE}.bundle", UPDATE)
        slow["location"] = f"{files.base}/slow/{UPDATE}.bundle"
        assert (
            await csms.call(call.SignedUpdateFirmware(request_id=60, firmware=slow))
        ).status == ("Accepted")
        await csms.wait_for(
            "SignedFirmwareStatusNotification", lambda p: p["status"] == "Downloading"
        )
        assert (await csms.call(call.Reset(type="Hard"))).status == "Accepted"
        await until(lambda: bool(box.resets), timeout=5)
        assert box.resets == ["Hard"]
    mark = len(csms.received)
    async with running_wallbox(tmp_path, config):
        await csms.wait_for(
            "SignedFirmwareStatusNotification",
            lambda p: p["status"] == "DownloadFailed" and p["request_id"] == 60,
            since=mark,
        )
    told = csms.of("SignedFirmwareStatusNotification")
    assert [p["status"] for p in told] == ["Downloading", "DownloadFailed"]
    assert not (tmp_path / "opt" / "pievse" / "releases" / UPDATE).exists()


async def test_two_answers_before_either_update_begins_cancel_the_first(
    updatable: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """However the two requests' steps interleave (here both answered before either `after`
    step, as when the answer's write waits on a slow socket), the second answer is
    AcceptedCanceled and only its update runs."""
    assert updatable.wallbox.ocpp is not None
    updates = updatable.wallbox.ocpp.jobs.firmware
    requests = SignedUpdateRequests(updates, 0, 1)
    missing = camel_to_snake_case(_signed(bundles, files, "missing.bundle", UPDATE))
    mark = len(csms.received)
    answers = [requests.answer(n, missing, None, None) for n in (70, 71)]
    assert answers == ["Accepted", "AcceptedCanceled"]
    for n, status in zip((70, 71), answers, strict=True):
        requests.start(status, n, missing)
    await final(csms, "SignedFirmwareStatusNotification", "DownloadFailed", mark, timeout=20)
    await asyncio.sleep(1.0)
    told = csms.of("SignedFirmwareStatusNotification", mark)
    assert {p["request_id"] for p in told} == {71}
