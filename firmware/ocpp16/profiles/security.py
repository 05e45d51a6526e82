"""What the CSMS may ask under the OCPP 1.6 Security Whitepaper: certificates (install, list,
delete, sign the charge point's; the rules are `CertificateRequests`') and logs (GetLog).
ExtendedTriggerMessage lives with the other triggers (remote_trigger_profile).
"""

from __future__ import annotations

from typing import Any, Protocol

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.csms.certificate_requests import CertificateRequests
from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.rpc.routes import StatusAnswer, after, on


class LogAnswer(Protocol):
    """What the GetLog `after` step reads of its answer: the file it announced."""

    @property
    def filename(self) -> str | None: ...


class SecurityExtensionProfile:
    def __init__(self, requests: CertificateRequests, uploads: LogUploads) -> None:
        self._requests = requests
        self._uploads = uploads

    # --- root certificates ---------------------------------------------------------------

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str) -> Any:
        status = self._requests.install(certificate_type, certificate)
        return call_result.InstallCertificate(status=status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: str) -> Any:
        found = self._requests.hashes(certificate_type)
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[h.payload() for h in found]
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, str]) -> Any:
        return call_result.DeleteCertificate(status=self._requests.delete(certificate_hash_data))

    # --- the charge point certificate ----------------------------------------------------

    async def request_signing(self) -> None:
        await self._requests.request_signing()

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str) -> Any:
        signed = self._requests.signed(certificate_chain)
        return call_result.CertificateSigned(status="Accepted" if signed else "Rejected")

    @after(Action.certificate_signed)
    def after_certificate_signed(self, response: StatusAnswer, **_: Any) -> None:
        if response.status == "Accepted":
            self._requests.use_signed()

    # --- logs ----------------------------------------------------------------------------

    @on(Action.get_log)
    def on_get_log(
        self,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> Any:
        status, filename = self._uploads.requested(
            log_type, request_id, log, retries, retry_interval
        )
        return call_result.GetLog(status=status, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, response: LogAnswer, **_: Any) -> None:
        self._uploads.begin(response.filename)
