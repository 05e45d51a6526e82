"""Block A on 2.0.1: root certificates by their 2.0.1 names, security events, and the TLS
profiles against a real TLS server: profile 2, then SignCertificate -> CertificateSigned ->
profile 3 with the signed client certificate through a network profile and a reset (A05)."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.v201 import call

from tests.conftest import ocpp_config, running_wallbox, until
from tests.rigs.csms201 import TestCsms201, network_profile
from tests.rigs.pki import Pki, pem, server_context
from tests.rigs.security_rig import PASSWORD, root_file, security, serving
from tests.security.test_certificates import expected_hash

CSMS_ROOT = "CSMSRootCertificate"
MF_ROOT = "ManufacturerRootCertificate"


async def test_roots_by_their_2_0_1_names(tmp_path: Path, csms: TestCsms201) -> None:
    cpo, maker = Pki("CPO Root"), Pki("Maker Root")
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available")
        assert (await csms.call(call.GetInstalledCertificateIds())).status == "NotFound"
        answer = await csms.call(call.InstallCertificate(CSMS_ROOT, cpo.root.pem()))
        assert answer.status == "Accepted"
        own = await csms.call(call.InstallCertificate(MF_ROOT, maker.root.pem()))
        assert own.status == "Rejected", "manufacturer roots come from provisioning"
        v2g = await csms.call(call.InstallCertificate("V2GRootCertificate", Pki().root.pem()))
        assert v2g.status == "Rejected", "no ISO 15118 on a pilot-only box"
        bad = await csms.call(call.InstallCertificate(CSMS_ROOT, "hello"))
        assert bad.status == "Rejected"
        listed = await csms.call(call.GetInstalledCertificateIds(certificate_type=[CSMS_ROOT]))
        assert listed.status == "Accepted"
        chain = listed.certificate_hash_data_chain
        assert [c["certificate_type"] for c in chain] == [CSMS_ROOT]
        assert (
            chain[0]["certificate_hash_data"]["serial_number"]
            == (expected_hash(cpo.root.certificate)["serialNumber"])
        )
        both = await csms.call(call.GetInstalledCertificateIds())
        assert {c["certificate_type"] for c in both.certificate_hash_data_chain} == {CSMS_ROOT}
        deleted = await csms.call(call.DeleteCertificate(expected_hash(cpo.root.certificate)))
        assert deleted.status == "Accepted"
        gone = await csms.call(call.DeleteCertificate(expected_hash(cpo.root.certificate)))
        assert gone.status == "NotFound"
        refused = await csms.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "InvalidFirmwareSigningCertificate",
        )
        assert "provisioned" in refused["tech_info"]
        events = await csms.wait_for(
            "SecurityEventNotification",
            lambda p: p["type"] == "InvalidCentralSystemCertificate",
        )
        assert "install refused" in events["tech_info"]
        assert csms.protocol_errors == []


async def test_profile_2_then_a_signed_certificate_and_profile_3(tmp_path: Path) -> None:
    pki = Pki()
    tls = server_context(tmp_path, pki.server(), client_roots=pki, client_required=False)
    async with serving(TestCsms201(tls=tls, password=PASSWORD)) as csms:
        lines = [root_file(tmp_path, pki), 'cpo_name = "Test CPO"']
        async with running_wallbox(tmp_path, ocpp_config(csms, security=security(2, *lines))):
            await csms.wait_status(1, "Available", timeout=8)
            assert csms.client_certificates == [None], "profile 2: the password, no certificate"
            mark = len(csms.received)
            triggered = await csms.call(
                call.TriggerMessage(requested_message="SignChargingStationCertificate")
            )
            assert triggered.status == "Accepted"
            request = await csms.wait_for("SignCertificate", since=mark)
            assert request["certificate_type"] == "ChargingStationCertificate"
            csr = x509.load_pem_x509_csr(request["csr"].encode())
            assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
                "pievse-0001"
            )
            first = pki.sign_csr(request["csr"])
            signed = await csms.call(
                call.CertificateSigned(certificate_chain=pem(first) + pki.root.pem())
            )
            assert signed.status == "Accepted"
            security_ctrlr = {"name": "SecurityCtrlr"}
            assert await csms.set_variable(security_ctrlr, "SecurityProfile", "3") == (
                "Rejected"
            ), "read-only on 2.0.1: the network profile says"
            assert await csms.set_network_profile(2, network_profile(csms.url, 3)) == "Accepted"
            assert await csms.set_variable(
                {"name": "OCPPCommCtrlr"}, "NetworkConfigurationPriority", "2,1"
            ) == ("RebootRequired")
            assert (await csms.call(call.Reset(type="Immediate"))).status == "Accepted"
        async with running_wallbox(tmp_path, ocpp_config(csms, security=security(2, *lines))):
            await until(lambda: len(csms.client_certificates) == 2)
            shown = x509.load_der_x509_certificate(csms.client_certificates[1])
            assert shown.serial_number == first.serial_number, "profile 3, the signed one"
            await csms.wait_status(1, "Available", since=mark)
            assert await csms.get_variable(security_ctrlr, "SecurityProfile") == "3"
            assert await csms.set_network_profile(1, network_profile(csms.url, 2)) == "Rejected", (
                "no way back down once profile 3 connected"
            )
            assert csms.protocol_errors == []
