"""Certificate management of the Security Whitepaper against a CSMS on loopback:
InstallCertificate (and every way a certificate is refused), GetInstalledCertificateIds with
hashes computed here independently, DeleteCertificate, AdditionalRootCertificateCheck, and
the SignCertificate -> CertificateSigned -> reconnect cycle."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import call

from pievse.firmware.security.x509_checks import certificate_hash
from tests.conftest import BenchClient, ocpp_config, running_wallbox, until
from tests.rigs.csms import TestCsms
from tests.rigs.pki import Pki, pem, server_context
from tests.rigs.security_rig import PASSWORD, registered, root_file, security, serving

CS_ROOT = "CentralSystemRootCertificate"
MF_ROOT = "ManufacturerRootCertificate"


def snake(payload: dict[str, str]) -> dict[str, str]:
    """As the ocpp library hands a nested object to the CSMS side."""
    return camel_to_snake_case(payload)  # type: ignore[no-any-return]


def expected_hash(certificate: x509.Certificate) -> dict[str, str]:
    """RFC 6960 CertID of a self-signed root, by hand: the issuer's DER name, the bits of
    its public key, the serial in hex."""
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    bits = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(bits).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


@contextlib.asynccontextmanager
async def box_on_profile_0(
    tmp_path: Path, extra: str = ""
) -> AsyncIterator[tuple[BenchClient, TestCsms]]:
    async with serving(TestCsms()) as csms:
        config = ocpp_config(csms, security="profile = 0\n" + extra)
        async with running_wallbox(tmp_path, config) as box:
            await registered(csms)
            yield box, csms


async def test_install_list_and_delete_roots(tmp_path: Path) -> None:
    cpo, maker = Pki("CPO Root"), Pki("Maker Root")
    provisioned = tmp_path / "maker-root.pem"
    provisioned.write_text(maker.root.pem())
    extra = f'manufacturer_root_certificate = "{provisioned}"'
    async with box_on_profile_0(tmp_path, extra) as (_box, csms):
        assert (await csms.call(call.GetInstalledCertificateIds(CS_ROOT))).status == "NotFound"
        answer = await csms.call(call.InstallCertificate(CS_ROOT, cpo.root.pem()))
        assert answer.status == "Accepted"
        listed = await csms.call(call.GetInstalledCertificateIds(CS_ROOT))
        assert listed.status == "Accepted"
        assert listed.certificate_hash_data == [snake(expected_hash(cpo.root.certificate))]
        again = await csms.call(call.InstallCertificate(CS_ROOT, cpo.root.pem()))
        assert again.status == "Accepted", "installing it twice changes nothing"
        assert (
            len((await csms.call(call.GetInstalledCertificateIds(CS_ROOT))).certificate_hash_data)
            == 1
        )
        successor = Pki("Maker Root 2", signed_by=maker)
        signed = await csms.call(call.InstallCertificate(MF_ROOT, successor.root.pem()))
        assert signed.status == "Accepted", "signed by the provisioned manufacturer root"
        for path in (tmp_path / "data" / "certs").iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        deleted = await csms.call(call.DeleteCertificate(expected_hash(maker.root.certificate)))
        assert deleted.status == "Accepted"
        gone = await csms.call(call.DeleteCertificate(expected_hash(maker.root.certificate)))
        assert gone.status == "NotFound"
        last = await csms.call(call.GetInstalledCertificateIds(MF_ROOT))
        kept = await csms.call(call.DeleteCertificate(last.certificate_hash_data[0]))
        assert kept.status == "Failed", "the last ManufacturerRootCertificate stays"
        events = [p["type"] for p in csms.of("SecurityEventNotification")]
        assert events.count("ReconfigurationOfSecurityParameters") == 3
        assert stat.S_IMODE((tmp_path / "data" / "pievse.db").stat().st_mode) == 0o600


async def test_a_csms_cannot_install_its_own_manufacturer_root(tmp_path: Path) -> None:
    """Its own root would let it sign any firmware: refused (with the event), and a bundle
    signed under it is refused as before."""
    own = Pki("The CSMS's own root")
    signer = ec.generate_private_key(ec.SECP256R1())
    certificate = own.issue("csms firmware", signer.public_key(), code_signing=True)
    async with box_on_profile_0(tmp_path) as (_box, csms):
        answer = await csms.call(call.InstallCertificate(MF_ROOT, own.root.pem()))
        assert answer.status == "Rejected"
        event = await csms.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "InvalidFirmwareSigningCertificate",
        )
        assert "ManufacturerRootCertificate is provisioned, or signed by one" in event["tech_info"]
        assert (await csms.call(call.GetInstalledCertificateIds(MF_ROOT))).status == "NotFound"
        firmware = {
            "location": "http://127.0.0.1:9/pievse.bundle",
            "retrieveDateTime": "2020-01-01T00:00:00Z",
            "signingCertificate": pem(certificate),
            "signature": "c2lnbmF0dXJl",
        }
        update = await csms.call(call.SignedUpdateFirmware(request_id=7, firmware=firmware))
        assert update.status == "InvalidCertificate"
        assert not csms.of("SignedFirmwareStatusNotification")


def _leaf_pem() -> str:
    pki = Pki()
    return pem(pki.client("not-a-ca").certificate)


@pytest.mark.parametrize(
    ("certificate", "why"),
    [
        (
            lambda: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
            "malformed",
        ),
        (lambda: "hello", "not a PEM certificate"),
        (lambda: Pki(days=(-30, -1)).root.pem(), "expired"),
        (lambda: Pki(days=(1, 30)).root.pem(), "not valid before"),
        (_leaf_pem, "not a CA certificate"),
        (lambda: Pki().root.pem() + Pki().root.pem(), "expected one certificate"),
    ],
)
async def test_a_bad_certificate_is_rejected_with_a_security_event(
    tmp_path: Path,
    certificate,
    why: str,  # type: ignore[no-untyped-def]
) -> None:
    good = Pki()
    async with box_on_profile_0(tmp_path) as (_box, csms):
        await csms.call(call.InstallCertificate(CS_ROOT, good.root.pem()))
        before = sorted((tmp_path / "data" / "certs").iterdir())
        answer = await csms.call(call.InstallCertificate(CS_ROOT, certificate()))
        assert answer.status == "Rejected"
        event = await csms.wait_for(
            "SecurityEventNotification", lambda p: p["type"] == "InvalidCentralSystemCertificate"
        )
        assert why in event["tech_info"]
        assert sorted((tmp_path / "data" / "certs").iterdir()) == before, "nothing changed"


async def test_the_store_has_a_size_limit(tmp_path: Path) -> None:
    async with box_on_profile_0(tmp_path, "certificate_store_max_length = 2") as (_box, csms):
        answers = [
            (await csms.call(call.InstallCertificate(CS_ROOT, Pki(f"R{n}").root.pem()))).status
            for n in range(3)
        ]
        assert answers == ["Accepted", "Accepted", "Rejected"]
        keys = await csms.call(call.GetConfiguration(key=["CertificateStoreMaxLength"]))
        assert keys.configuration_key[0] == {
            "key": "CertificateStoreMaxLength",
            "readonly": True,
            "value": "2",
        }


async def test_the_last_root_in_use_cannot_be_deleted(tmp_path: Path) -> None:
    pki = Pki()
    tls = server_context(tmp_path, pki.server())
    async with serving(TestCsms(tls=tls, password=PASSWORD)) as csms:
        config = ocpp_config(csms, security=security(2, root_file(tmp_path, pki)))
        async with running_wallbox(tmp_path, config):
            await registered(csms)
            answer = await csms.call(call.DeleteCertificate(expected_hash(pki.root.certificate)))
            assert answer.status == "Failed"
            second = Pki("Second Root")
            await csms.call(call.InstallCertificate(CS_ROOT, second.root.pem()))
            answer = await csms.call(call.DeleteCertificate(expected_hash(second.root.certificate)))
            assert answer.status == "Accepted", "another root may go"


async def test_additional_root_certificate_check_replaces_a_root_only_with_its_successor(
    tmp_path: Path,
) -> None:
    old = Pki("CPO Root 2026")
    stranger, successor = Pki("Stranger"), Pki("CPO Root 2027", signed_by=old)
    extra = "additional_root_certificate_check = true"
    async with box_on_profile_0(tmp_path, extra) as (_box, csms):
        assert (
            await csms.call(call.InstallCertificate(CS_ROOT, old.root.pem()))
        ).status == "Accepted"
        refused = await csms.call(call.InstallCertificate(CS_ROOT, stranger.root.pem()))
        assert refused.status == "Rejected"
        accepted = await csms.call(call.InstallCertificate(CS_ROOT, successor.root.pem()))
        assert accepted.status == "Accepted"
        listed = await csms.call(call.GetInstalledCertificateIds(CS_ROOT))
        assert [h["serial_number"] for h in listed.certificate_hash_data] == [
            format(successor.root.certificate.serial_number, "x")
        ], "the new root replaced the old"
        fallback = list((tmp_path / "data" / "certs").glob("*.fallback"))
        assert len(fallback) == 1, "the old root stays as a fallback until a connection works"
        mark = len(csms.received)
        await csms.drop_connection()
        await csms.wait_status(0, "Available", since=mark, timeout=8)
        kept = list((tmp_path / "data" / "certs").glob("*.fallback"))
        assert kept == fallback, "a plain ws:// connection proves nothing about the new root"


# --- the charge point certificate -----------------------------------------------------------


async def _signed_by_the_csms(csms: TestCsms, pki: Pki, since: int) -> x509.Certificate:
    request = await csms.wait_for("SignCertificate", since=since)
    csr = x509.load_pem_x509_csr(request["csr"].encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "pievse-0001"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Test CPO"
    return pki.sign_csr(request["csr"])


async def test_sign_certificate_then_profile_3_then_a_renewal_reconnects(tmp_path: Path) -> None:
    pki = Pki()
    tls = server_context(tmp_path, pki.server(), client_roots=pki, client_required=False)
    async with serving(TestCsms(tls=tls, password=PASSWORD)) as csms:
        lines = [root_file(tmp_path, pki), 'cpo_name = "Test CPO"']
        async with running_wallbox(
            tmp_path, ocpp_config(csms, security=security(2, *lines))
        ) as box:
            await registered(csms)
            mark = len(csms.received)
            triggered = await csms.call(call.ExtendedTriggerMessage("SignChargePointCertificate"))
            assert triggered.status == "Accepted"
            first = await _signed_by_the_csms(csms, pki, mark)
            signed = await csms.call(call.CertificateSigned(pem(first) + pki.root.pem()))
            assert signed.status == "Accepted"
            key_file = tmp_path / "data" / "certs" / "charge-point.key"
            assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
            assert (
                await csms.call(call.ChangeConfiguration("SecurityProfile", "3"))
            ).status == "Accepted"
            await until(lambda: len(csms.client_certificates) == 2)
            shown = x509.load_der_x509_certificate(csms.client_certificates[1])
            assert shown.serial_number == first.serial_number, "profile 3 with the signed one"
            await csms.wait_status(0, "Available", since=mark)
            mark = len(csms.received)
            await csms.call(call.ExtendedTriggerMessage("SignChargePointCertificate"))
            renewed = await _signed_by_the_csms(csms, pki, mark)
            assert (await csms.call(call.CertificateSigned(pem(renewed)))).status == "Accepted"
            await until(lambda: len(csms.client_certificates) == 3)
            shown = x509.load_der_x509_certificate(csms.client_certificates[2])
            assert shown.serial_number == renewed.serial_number, "reconnected with the new one"
            assert (await box.status())["ocpp"]["security_profile"] == 3


@pytest.mark.parametrize(
    "case",
    ["other_key", "other_name", "expired", "unknown_root", "malformed", "broken_chain"],
)
async def test_a_bad_certificate_signed_answer_is_rejected_and_nothing_overwritten(
    tmp_path: Path, case: str
) -> None:
    pki = Pki()
    async with box_on_profile_0(tmp_path, root_file(tmp_path, pki)) as (_box, csms):
        first_mark = len(csms.received)
        await csms.call(call.ExtendedTriggerMessage("SignChargePointCertificate"))
        request = await csms.wait_for("SignCertificate", since=first_mark)
        good = pki.sign_csr(request["csr"])
        assert (await csms.call(call.CertificateSigned(pem(good)))).status == "Accepted"
        chain_file = tmp_path / "data" / "certs" / "charge-point.pem"
        installed = chain_file.read_bytes()
        mark = len(csms.received)
        await csms.call(call.ExtendedTriggerMessage("SignChargePointCertificate"))
        request = await csms.wait_for("SignCertificate", since=mark)
        csr = request["csr"]
        other = ec.generate_private_key(ec.SECP256R1())
        answer = {
            "other_key": lambda: pem(pki.issue("pievse-0001", other.public_key(), client=True)),
            "other_name": lambda: pem(
                pki.issue(
                    "someone-else", x509.load_pem_x509_csr(csr.encode()).public_key(), client=True
                )  # type: ignore[arg-type]
            ),
            "expired": lambda: pem(pki.sign_csr(csr, days=(-30, -1))),
            "unknown_root": lambda: pem(Pki("Unknown").sign_csr(csr)),
            "malformed": lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "broken_chain": lambda: pem(pki.sign_csr(csr)) + Pki("Not the issuer").root.pem(),
        }[case]()
        result = await csms.call(call.CertificateSigned(answer))
        assert result.status == "Rejected"
        await csms.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "InvalidChargePointCertificate",
            since=mark,
        )
        assert chain_file.read_bytes() == installed, "the working certificate is untouched"
        assert os.path.exists(tmp_path / "data" / "certs" / "charge-point.key")


def test_certificate_hashes_of_an_issued_certificate_use_its_issuer() -> None:
    pki = Pki()
    leaf = pki.client("x").certificate
    found = certificate_hash(leaf, pki.root.certificate)
    assert found.issuer_name_hash == hashlib.sha256(leaf.issuer.public_bytes()).hexdigest()
    assert found.issuer_key_hash == expected_hash(pki.root.certificate)["issuerKeyHash"]
    assert found.serial_number == format(leaf.serial_number, "x")


async def test_a_manufacturer_root_a_csms_installed_earlier_is_retired_at_start(
    tmp_path: Path,
) -> None:
    """Roots that lead to no provisioned one (an earlier release let a CSMS install its own)
    verify nothing from the next start on; the provisioned root and its successors stay."""
    maker, own = Pki("Maker Root"), Pki("The CSMS's own root")
    successor = Pki("Maker Root 2", signed_by=maker)
    provisioned = tmp_path / "maker-root.pem"
    provisioned.write_text(maker.root.pem())
    certs = tmp_path / "data" / "certs"
    certs.mkdir(parents=True)
    for name, pki in (("own", own), ("successor", successor)):
        (certs / f"mf-root-{name}.pem").write_text(pki.root.pem())
    extra = f'manufacturer_root_certificate = "{provisioned}"'
    async with box_on_profile_0(tmp_path, extra) as (_box, csms):
        listed = await csms.call(call.GetInstalledCertificateIds(MF_ROOT))
        serials = {h["serial_number"] for h in listed.certificate_hash_data}
        assert serials == {
            format(p.root.certificate.serial_number, "x") for p in (maker, successor)
        }
    assert (certs / "mf-root-own.retired").exists()


# --- requests that overlap ------------------------------------------------------------------


async def test_overlapping_signings_install_the_certificate_of_the_last_request(
    tmp_path: Path,
) -> None:
    """Two SignChargePointCertificate triggers together: two CSRs, the second's key the one
    the box waits for. The CSMS signs both and answers both at once: the first CSR's
    certificate is Rejected (its key was replaced; the pending one stays), the second's
    Accepted; two certificates for the one pending key: the first taken, the second Rejected."""
    pki = Pki()
    async with box_on_profile_0(tmp_path, root_file(tmp_path, pki)) as (_box, csms):
        mark = len(csms.received)
        triggers = await csms.send_together(
            [
                [
                    2,
                    f"t{n}",
                    "ExtendedTriggerMessage",
                    {"requestedMessage": "SignChargePointCertificate"},
                ]
                for n in (1, 2)
            ]
        )
        assert [a[2]["status"] for a in triggers] == ["Accepted", "Accepted"]
        await csms.wait_for(
            "SignCertificate", lambda _p: len(csms.of("SignCertificate", mark)) == 2, since=mark
        )
        older, newer = (pki.sign_csr(r["csr"]) for r in csms.of("SignCertificate", mark))
        again = pki.sign_csr(csms.of("SignCertificate", mark)[1]["csr"])
        answers = await csms.send_together(
            [
                [2, "old", "CertificateSigned", {"certificateChain": pem(older)}],
                [2, "new", "CertificateSigned", {"certificateChain": pem(newer)}],
                [2, "twice", "CertificateSigned", {"certificateChain": pem(again)}],
            ]
        )
        assert [a[2]["status"] for a in answers] == ["Rejected", "Accepted", "Rejected"]
        certs = tmp_path / "data" / "certs"
        installed = x509.load_pem_x509_certificate((certs / "charge-point.pem").read_bytes())
        assert installed.serial_number == newer.serial_number
        key = serialization.load_pem_private_key((certs / "charge-point.key").read_bytes(), None)
        assert key.public_key() == installed.public_key()
        assert not (certs / "charge-point.key.pending").exists()

        def refused() -> list[str]:
            return [
                p["tech_info"]
                for p in csms.of("SecurityEventNotification", mark)
                if p["type"] == "InvalidChargePointCertificate"
            ]

        await until(lambda: len(refused()) == 2)
        assert "does not match the key" in refused()[0]
        assert "no pending key" in refused()[1]
