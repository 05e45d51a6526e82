"""The firmware signing certificate's chain, as a CSMS sends it in SignedUpdateFirmware:
every intermediate must be a CA whose key signs certificates, the signer must be meant for
code signing. Each forged chain is refused before anything is downloaded, with its event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.v16 import call

from tests.conftest import ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.pki import Issued, Pki, pem

MAKER = Pki("Maker Root")


def _certificate(
    name: str,
    issuer: Issued,
    ca: bool,
    usages: list[x509.ObjectIdentifier],
    key_cert_sign: bool = False,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=key_cert_sign,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return Issued(key, builder.sign(issuer.key, hashes.SHA256()))


CODE = [ExtendedKeyUsageOID.CODE_SIGNING]
SERVER = [ExtendedKeyUsageOID.SERVER_AUTH]


def chain(*issued: Issued) -> str:
    return "".join(pem(i.certificate) for i in issued)


def through_a_leaf() -> str:
    """The maker issued an ordinary (non-CA) certificate; its key then 'issues' a signer."""
    leaf = _certificate("some device", MAKER.root, ca=False, usages=CODE)
    return chain(_certificate("firmware", leaf, ca=False, usages=CODE), leaf)


def through_a_ca_without_key_cert_sign() -> str:
    middle = _certificate("middle", MAKER.root, ca=True, usages=[], key_cert_sign=False)
    return chain(_certificate("firmware", middle, ca=False, usages=CODE), middle)


def server_auth_only() -> str:
    return chain(_certificate("a web server", MAKER.root, ca=False, usages=SERVER))


def no_extended_key_usage() -> str:
    return chain(_certificate("anything", MAKER.root, ca=False, usages=[]))


def through_a_proper_intermediate() -> str:
    middle = _certificate("firmware CA", MAKER.root, ca=True, usages=[], key_cert_sign=True)
    return chain(_certificate("firmware", middle, ca=False, usages=CODE), middle)


@pytest.fixture
async def box(tmp_path: Path, csms: TestCsms) -> AsyncIterator[None]:
    root = tmp_path / "maker-root.pem"
    root.write_text(MAKER.root.pem())
    security = f'profile = 0\nmanufacturer_root_certificate = "{root}"'
    async with running_wallbox(tmp_path, ocpp_config(csms, security=security)):
        await csms.wait_status(0, "Available")
        yield


def _firmware(signing_certificate: str) -> dict[str, str]:
    return {
        # Nothing listens on the discard port: an accepted update fails its download.
        "location": "http://127.0.0.1:9/pievse.bundle",
        "retrieveDateTime": now_iso(timedelta(hours=1)),
        "signingCertificate": signing_certificate,
        "signature": "c2lnbmF0dXJl",
    }


@pytest.mark.parametrize(
    ("forged", "reason"),
    [
        (through_a_leaf, "intermediate certificate of the chain: not a CA"),
        (through_a_ca_without_key_cert_sign, "no keyCertSign"),
        (server_auth_only, "no codeSigning"),
        (no_extended_key_usage, "no extended key usage"),
    ],
)
async def test_a_forged_signing_chain_is_refused(
    box: None, csms: TestCsms, forged: object, reason: str
) -> None:
    assert callable(forged)
    answer = await csms.call(call.SignedUpdateFirmware(request_id=5, firmware=_firmware(forged())))
    assert answer.status == "InvalidCertificate"
    event = await csms.wait_for(
        "SecurityEventNotification", lambda p: p["type"] == "InvalidFirmwareSigningCertificate"
    )
    assert reason in event["tech_info"]
    assert not csms.of("SignedFirmwareStatusNotification")


async def test_a_chain_through_a_signing_ca_is_accepted(box: None, csms: TestCsms) -> None:
    firmware = _firmware(through_a_proper_intermediate())
    answer = await csms.call(call.SignedUpdateFirmware(request_id=6, firmware=firmware))
    assert answer.status == "Accepted"
    await csms.wait_for(
        "SignedFirmwareStatusNotification", lambda p: p["status"] == "DownloadScheduled"
    )
