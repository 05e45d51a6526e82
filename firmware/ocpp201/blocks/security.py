"""Block A, security (A02-A05, M03-M05): InstallCertificate, GetInstalledCertificateIds,
DeleteCertificate, CertificateSigned and SignCertificate on the box's certificate store, by
the rules 1.6's whitepaper front uses (`CertificateRequests`).

2.0.1 calls the Central System root CSMSRootCertificate; its ISO 15118 certificates (V2G,
MO) are for EVs that talk to the box over the cable, which this box's pilot-only hardware
cannot: they are refused, and never found. Security events go out as
SecurityEventNotification, whose 2.0.1 form is the whitepaper's.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.csms.certificate_requests import CertificateRequests
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.security.certificate_store import CENTRAL_SYSTEM_ROOT, MANUFACTURER_ROOT

KINDS = {
    "CSMSRootCertificate": CENTRAL_SYSTEM_ROOT,
    "ManufacturerRootCertificate": MANUFACTURER_ROOT,
}
"""2.0.1 certificate type -> the store's kind."""
STATION_CERTIFICATE = "ChargingStationCertificate"


class SecurityBlock:
    def __init__(self, requests: CertificateRequests) -> None:
        self._requests = requests

    async def request_signing(self) -> None:
        await self._requests.request_signing({"certificateType": STATION_CERTIFICATE})

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        kind = KINDS.get(certificate_type)
        status = "Rejected" if kind is None else self._requests.install(kind, certificate)
        return call_result.InstallCertificate(status=status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(
        self, certificate_type: list[str] | None = None, **_: Any
    ) -> Any:
        wanted = [t for t in (certificate_type or list(KINDS)) if t in KINDS]
        chain = [
            {"certificateType": name, "certificateHashData": found.payload()}
            for name in wanted
            for found in self._requests.hashes(KINDS[name])
        ]
        if not chain:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data_chain=chain
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, str], **_: Any) -> Any:
        return call_result.DeleteCertificate(status=self._requests.delete(certificate_hash_data))

    @on(Action.certificate_signed)
    def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str | None = None, **_: Any
    ) -> Any:
        signed = certificate_type in (None, STATION_CERTIFICATE) and (
            self._requests.signed(certificate_chain)
        )
        return call_result.CertificateSigned(status="Accepted" if signed else "Rejected")

    @after(Action.certificate_signed)
    def after_certificate_signed(self, response: StatusAnswer, **_: Any) -> None:
        if response.status == "Accepted":
            self._requests.use_signed()
