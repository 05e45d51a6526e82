"""What the CSMS may ask under the OCPP 1.6 Security Whitepaper: certificates (install, list,
delete, sign the charge point's) and logs (GetLog). ExtendedTriggerMessage lives with the
other triggers (remote_trigger_profile).

Every refusal is logged with its reason and, where the whitepaper has an event for it,
recorded in the security log; a refused certificate changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.diagnostics.log_uploads import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_INTERVAL_S,
    LogRequest,
    LogUploads,
)
from pievse.firmware.rpc.connection import RequestFailed
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateHash,
    CertificateStore,
)
from pievse.firmware.security.connection_security import ConnectionSecurity
from pievse.firmware.security.security_log import SecurityLog

log = logging.getLogger(__name__)
REFUSED_ROOT_EVENT = {
    CENTRAL_SYSTEM_ROOT: "InvalidCentralSystemCertificate",
    MANUFACTURER_ROOT: "InvalidFirmwareSigningCertificate",
}


class SecurityExtensionProfile:
    def __init__(
        self,
        csms: CsmsSession,
        keys: ConfigurationKeys,
        certificates: CertificateStore,
        security: ConnectionSecurity,
        events: SecurityLog,
        uploads: LogUploads,
        charge_point_id: str,
    ) -> None:
        self._csms = csms
        self._keys = keys
        self._certificates = certificates
        self._security = security
        self._events = events
        self._uploads = uploads
        self._id = charge_point_id
        self._signed_now = False

    # --- root certificates ---------------------------------------------------------------

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str) -> Any:
        try:
            added = self._certificates.install_root(
                certificate_type,
                certificate,
                signed_by_installed=self._keys.flag("AdditionalRootCertificateCheck"),
            )
        except CertificateError as exc:
            log.warning("InstallCertificate %s refused: %s", certificate_type, exc)
            self._events.record(REFUSED_ROOT_EVENT[certificate_type], f"install refused: {exc}")
            return call_result.InstallCertificate(status="Rejected")
        except OSError as exc:
            log.error("InstallCertificate %s failed: %s", certificate_type, exc)
            return call_result.InstallCertificate(status="Failed")
        if added:
            self._events.record(
                "ReconfigurationOfSecurityParameters", f"{certificate_type} installed"
            )
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: str) -> Any:
        found = self._certificates.hashes(certificate_type)
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[h.payload() for h in found]
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, str]) -> Any:
        wanted = CertificateHash(
            certificate_hash_data["hash_algorithm"],
            certificate_hash_data["issuer_name_hash"].lower(),
            certificate_hash_data["issuer_key_hash"].lower(),
            certificate_hash_data["serial_number"].lower().lstrip("0") or "0",
        )
        found = self._certificates.find(wanted)
        if found is None:
            return call_result.DeleteCertificate(status="NotFound")
        kind, path = found
        in_use = kind == CENTRAL_SYSTEM_ROOT and self._security.credentials.profile >= 2
        if in_use and len(self._certificates.roots(CENTRAL_SYSTEM_ROOT)) == 1:
            log.warning("DeleteCertificate refused: the last Central System root is in use")
            return call_result.DeleteCertificate(status="Failed")
        self._certificates.delete(path)
        self._events.record("ReconfigurationOfSecurityParameters", f"{kind} deleted")
        return call_result.DeleteCertificate(status="Accepted")

    # --- the charge point certificate ----------------------------------------------------

    async def request_signing(self) -> None:
        """A new key pair and its CSR (CN = charge point id, O = CpoName) to the CSMS."""
        csr = self._certificates.new_csr(self._id, self._keys.value("CpoName"))
        try:
            answer = await self._csms.request("SignCertificate", {"csr": csr})
        except RequestFailed as exc:
            log.warning("SignCertificate failed: %s", exc)
            return
        log.info("SignCertificate: %s", answer["status"])

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str) -> Any:
        self._signed_now = False
        limit = self._keys.number("CertificateSignedMaxChainSize")
        if len(certificate_chain) > limit:
            reason = f"chain of {len(certificate_chain)} characters, more than {limit}"
        else:
            try:
                self._certificates.accept_signed_chain(certificate_chain, self._id)
            except (CertificateError, ValueError) as exc:
                reason = str(exc)
            else:
                self._signed_now = True
                log.info("charge point certificate installed")
                return call_result.CertificateSigned(status="Accepted")
        log.warning("CertificateSigned refused: %s", reason)
        self._events.record("InvalidChargePointCertificate", reason)
        return call_result.CertificateSigned(status="Rejected")

    @after(Action.certificate_signed)
    def after_certificate_signed(self, **_: Any) -> None:
        if self._signed_now and self._security.credentials.profile == 3:
            self._csms.reconnect()

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
        try:
            oldest, latest = (
                parse_ocpp_datetime(log[name]) if name in log else None
                for name in ("oldest_timestamp", "latest_timestamp")
            )
        except ValueError:
            return call_result.GetLog(status="Rejected")
        request = LogRequest(
            log_type,
            request_id,
            log["remote_location"],
            DEFAULT_RETRIES if retries is None else retries,
            DEFAULT_RETRY_INTERVAL_S if retry_interval is None else retry_interval,
            oldest,
            latest,
        )
        status, filename = self._uploads.accept(request)
        return call_result.GetLog(status=status, filename=filename)

    @after(Action.get_log)
    def after_get_log(self, **_: Any) -> None:
        self._uploads.begin()
