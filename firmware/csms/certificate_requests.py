"""What the CSMS may ask of the box's certificates, in either OCPP version: install a root,
list and delete certificates, sign the charge point's own. 1.6's Security Whitepaper and
2.0.1's block A ask the same things with other type names; the fronts translate the names
and these rules answer.

Every refusal is logged with its reason and, where the whitepaper has an event for it,
recorded in the security log; a refused certificate changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.key_table import (
    ADDITIONAL_ROOT_CERTIFICATE_CHECK,
    CERTIFICATE_SIGNED_MAX_CHAIN_SIZE,
    CPO_NAME,
)
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.rpc.connection import RequestFailed
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateHash,
    CertificateStore,
)
from pievse.firmware.security.security_log import SecurityLog

log = logging.getLogger(__name__)
REFUSED_ROOT_EVENT = {
    CENTRAL_SYSTEM_ROOT: "InvalidCentralSystemCertificate",
    MANUFACTURER_ROOT: "InvalidFirmwareSigningCertificate",
}


class CertificateRequests:
    def __init__(
        self,
        csms: CsmsSession,
        keys: ConfigurationKeys,
        certificates: CertificateStore,
        security: ConnectionSecurity,
        events: SecurityLog,
        charge_point_id: str,
    ) -> None:
        self._csms = csms
        self._keys = keys
        self._certificates = certificates
        self._security = security
        self._events = events
        self._id = charge_point_id

    def install(self, kind: str, pem: str) -> str:
        """A root of `kind` (CENTRAL_SYSTEM_ROOT, MANUFACTURER_ROOT): Accepted, Rejected or
        Failed (the store could not be written)."""
        try:
            added = self._certificates.install_root(
                kind, pem, signed_by_installed=self._keys.get(ADDITIONAL_ROOT_CERTIFICATE_CHECK)
            )
        except CertificateError as exc:
            log.warning("InstallCertificate %s refused: %s", kind, exc)
            self._events.record(REFUSED_ROOT_EVENT[kind], f"install refused: {exc}")
            return "Rejected"
        except OSError as exc:
            log.error("InstallCertificate %s failed: %s", kind, exc)
            return "Failed"
        if added:
            self._events.record("ReconfigurationOfSecurityParameters", f"{kind} installed")
        return "Accepted"

    def hashes(self, kind: str) -> list[CertificateHash]:
        return self._certificates.hashes(kind)

    def delete(self, hash_data: dict[str, str]) -> str:
        """`hash_data` as the ocpp library hands it (snake_case): Accepted, NotFound, or
        Failed for the last Central System root while a TLS profile uses it and for the last
        ManufacturerRootCertificate (without one no update installs, and a box whose owner
        opted out of signatures would take unsigned ones)."""
        wanted = CertificateHash(
            hash_data["hash_algorithm"],
            hash_data["issuer_name_hash"].lower(),
            hash_data["issuer_key_hash"].lower(),
            hash_data["serial_number"].lower().lstrip("0") or "0",
        )
        found = self._certificates.find(wanted)
        if found is None:
            return "NotFound"
        kind, path = found
        in_use = kind == CENTRAL_SYSTEM_ROOT and self._security.credentials.profile >= 2
        if in_use and len(self._certificates.roots(CENTRAL_SYSTEM_ROOT)) == 1:
            log.warning("DeleteCertificate refused: the last Central System root is in use")
            return "Failed"
        if kind == MANUFACTURER_ROOT and len(self._certificates.roots(MANUFACTURER_ROOT)) == 1:
            log.warning("DeleteCertificate refused: the last ManufacturerRootCertificate")
            self._events.record(REFUSED_ROOT_EVENT[kind], "delete refused: the last one")
            return "Failed"
        self._certificates.delete(path)
        self._events.record("ReconfigurationOfSecurityParameters", f"{kind} deleted")
        return "Accepted"

    async def request_signing(self, extra: dict[str, Any] | None = None) -> None:
        """A new key pair and its CSR (CN = charge point id, O = CpoName) to the CSMS."""
        csr = self._certificates.new_csr(self._id, self._keys.get(CPO_NAME))
        try:
            answer = await self._csms.request("SignCertificate", {"csr": csr, **(extra or {})})
        except RequestFailed as exc:
            log.warning("SignCertificate failed: %s", exc)
            return
        log.info("SignCertificate: %s", answer["status"])

    def signed(self, chain: str) -> bool:
        """CertificateSigned: whether the chain became the box's client certificate."""
        limit = self._keys.get(CERTIFICATE_SIGNED_MAX_CHAIN_SIZE)
        if len(chain) > limit:
            reason = f"chain of {len(chain)} characters, more than {limit}"
        else:
            try:
                self._certificates.accept_signed_chain(chain, self._id)
            except (CertificateError, ValueError) as exc:
                reason = str(exc)
            else:
                log.info("charge point certificate installed")
                return True
        log.warning("CertificateSigned refused: %s", reason)
        self._events.record("InvalidChargePointCertificate", reason)
        return False

    def use_signed(self) -> None:
        """After the answer: profile 3 reconnects to show the new client certificate."""
        if self._security.credentials.profile == 3:
            self._csms.reconnect()
