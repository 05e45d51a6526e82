"""Only what the manufacturer signed is installed, whichever message brought it: real signed
and unsigned bundles from a real HTTP server, asked for by the CSMS on the `ocpp` library,
to a box in this process. A refusal ends in the version's failure status and a security
event; nothing is installed."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call

from pievse.firmware.updates.update_job import signature_beside
from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import HttpFiles
from tests.rigs.pki import Issued
from tests.rigs.release_rig import UPDATE, Bundles

STATUS = "FirmwareStatusNotification"


def firmware_section(tmp_path: Path, extra: str = "") -> str:
    return (
        f'\n[firmware]\ninstall_root = "{tmp_path}/opt/pievse"\n'
        "retries = 0\nretry_interval_s = 1\nverify_timeout_s = 10\n" + extra
    )


def rooted(tmp_path: Path, bundles: Bundles) -> str:
    """[security] lines provisioning the maker's root from the config file."""
    root = tmp_path / "maker-root.pem"
    root.write_text(bundles.maker.root.pem())
    return f'profile = 0\nmanufacturer_root_certificate = "{root}"'


def sign(bundle: bytes, signer: Issued) -> str:
    return base64.b64encode(signer.key.sign(bundle, ec.ECDSA(hashes.SHA256()))).decode()


def serve_signed(
    files: HttpFiles, name: str, bundle: bytes, signer: Issued, signature: str = ""
) -> None:
    """The bundle with its signature (.sig) and signing certificate (.pem) beside it, as
    deploy/make_bundle.py writes them."""
    files.serve[name] = bundle
    files.serve[f"{name}.sig"] = (signature or sign(bundle, signer)).encode()
    files.serve[f"{name}.pem"] = signer.pem().encode()


@pytest.fixture
async def rooted_box(
    tmp_path: Path, csms: TestCsms, bundles: Bundles
) -> AsyncIterator[BenchClient]:
    config = ocpp_config(csms, security=rooted(tmp_path, bundles), extra=firmware_section(tmp_path))
    async with running_wallbox(tmp_path, config) as client:
        await csms.wait_status(0, "Available")
        yield client


async def refused(
    csms: TestCsms, mark: int, status: str, event: str, timeout: float = 30
) -> dict[str, str]:
    """The refusal's status came, nothing was installed on the way, and its event."""
    await csms.wait_for(STATUS, lambda p: p["status"] == status, timeout, mark)
    sent = [p["status"] for p in csms.of(STATUS, mark)]
    assert "Installing" not in sent, sent
    return await csms.wait_for(
        "SecurityEventNotification", lambda p: p["type"] == event, since=mark
    )


def installed(box: BenchClient) -> list[str]:
    releases = box.wallbox.releases.root / "releases"
    return sorted(p.name for p in releases.iterdir()) if releases.exists() else []


async def test_plain_update_firmware_refuses_an_unsigned_bundle_with_a_root_provisioned(
    rooted_box: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    files.serve["unsigned.bundle"] = bundles.path(UPDATE).read_bytes()
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware(f"{files.base}/files/unsigned.bundle", now_iso()))
    event = await refused(csms, mark, "DownloadFailed", "InvalidFirmwareSignature")
    assert "no signature" in event["tech_info"]
    assert installed(rooted_box) == []


async def test_plain_update_firmware_refuses_a_signer_of_another_root(
    rooted_box: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    serve_signed(files, "stranger.bundle", bundles.path(UPDATE).read_bytes(), bundles.stranger)
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware(f"{files.base}/files/stranger.bundle", now_iso()))
    event = await refused(csms, mark, "InstallationFailed", "InvalidFirmwareSigningCertificate")
    assert "does not lead to an installed ManufacturerRootCertificate" in event["tech_info"]
    assert installed(rooted_box) == []


async def test_plain_update_firmware_refuses_a_signature_of_other_bytes(
    rooted_box: BenchClient, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    serve_signed(
        files, "tampered.bundle", bundles.tampered().read_bytes(), bundles.signer,
        signature=bundles.signature(UPDATE),
    )  # fmt: skip
    mark = len(csms.received)
    await csms.call(call.UpdateFirmware(f"{files.base}/files/tampered.bundle", now_iso()))
    event = await refused(csms, mark, "InstallationFailed", "InvalidFirmwareSignature")
    assert "does not match" in event["tech_info"]
    assert [p["status"] for p in csms.of(STATUS, mark)] == [
        "Downloading",
        "Downloaded",
        "InstallationFailed",
    ]
    assert installed(rooted_box) == []


async def test_without_a_provisioned_root_nothing_is_downloaded(
    tmp_path: Path, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    serve_signed(files, "signed.bundle", bundles.path(UPDATE).read_bytes(), bundles.signer)
    config = ocpp_config(csms, extra=firmware_section(tmp_path))
    async with running_wallbox(tmp_path, config) as box:
        await csms.wait_status(0, "Available")
        mark = len(csms.received)
        await csms.call(call.UpdateFirmware(f"{files.base}/files/signed.bundle", now_iso()))
        event = await refused(csms, mark, "InstallationFailed", "InvalidFirmwareSigningCertificate")
        assert "no ManufacturerRootCertificate is provisioned" in event["tech_info"]
        assert [p["status"] for p in csms.of(STATUS, mark)] == ["InstallationFailed"]
        assert files.hits.get("files", 0) == 0, "nothing was downloaded"
        assert installed(box) == []


async def test_the_owners_opt_out_installs_unsigned_only_while_no_root_is_provisioned(
    tmp_path: Path, csms: TestCsms, files: HttpFiles, bundles: Bundles
) -> None:
    """`[firmware] allow_unsigned`: past the trust check (a file that is no bundle then fails
    as such); with a root provisioned the opt-out changes nothing."""
    files.serve["not-a-bundle.bundle"] = b"hello"
    files.serve["unsigned.bundle"] = bundles.path(UPDATE).read_bytes()
    opt_out = firmware_section(tmp_path / "a", "allow_unsigned = true\n")
    async with running_wallbox(tmp_path / "a", ocpp_config(csms, extra=opt_out)):
        await csms.wait_status(0, "Available")
        mark = len(csms.received)
        await csms.call(call.UpdateFirmware(f"{files.base}/files/not-a-bundle.bundle", now_iso()))
        await csms.wait_for(STATUS, lambda p: p["status"] == "InstallationFailed", 30, mark)
        assert [p["status"] for p in csms.of(STATUS, mark)] == [
            "Downloading",
            "Downloaded",
            "InstallationFailed",
        ]
    opt_out = firmware_section(tmp_path / "b", "allow_unsigned = true\n")
    config = ocpp_config(csms, security=rooted(tmp_path, bundles), extra=opt_out)
    async with running_wallbox(tmp_path / "b", config) as box:
        await csms.wait_for("BootNotification", since=mark)
        mark = len(csms.received)
        await csms.call(call.UpdateFirmware(f"{files.base}/files/unsigned.bundle", now_iso()))
        await refused(csms, mark, "DownloadFailed", "InvalidFirmwareSignature")
        assert installed(box) == []


def test_the_signature_is_looked_for_beside_the_bundle_before_any_query() -> None:
    assert signature_beside("https://h/f/pievse-1.bundle?token=a.b") == (
        "https://h/f/pievse-1.bundle.sig?token=a.b",
        "https://h/f/pievse-1.bundle.pem?token=a.b",
    )
    assert signature_beside("ftp://u:p@h:21/b") == ("ftp://u:p@h:21/b.sig", "ftp://u:p@h:21/b.pem")
