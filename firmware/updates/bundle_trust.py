"""Whether a bundle may be installed: its signing certificate checked against the provisioned
ManufacturerRootCertificates, a plain 1.6 update's signature and certificate fetched from
beside the bundle, the signature verified over the bundle, or, where no root is provisioned,
the owner's opt-out (`UpdateLimits.allow_unsigned`). cryptography (about 10 MB resident) is
imported once an update comes."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO

from pievse.firmware.clock import Clock
from pievse.firmware.security.certificate_store import (
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateStore,
)
from pievse.firmware.transfer.file_transfer import FileTransfers
from pievse.firmware.transfer.transfer_error import TransferError
from pievse.firmware.updates.release_bundle import BundleError
from pievse.firmware.updates.update_job import Job, MissingSignature, Refusal, signature_beside
from pievse.firmware.updates.worker_thread import in_worker

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)
MAX_SIDE_FILE_BYTES = 64_000
"""The largest signature or signing certificate (chain) fetched beside a bundle."""


class BundleTrust:
    def __init__(
        self,
        certificates: CertificateStore,
        clock: Clock,
        transfers: FileTransfers,
        allow_unsigned: bool,
    ) -> None:
        self._certificates = certificates
        self._clock = clock
        self._transfers = transfers
        self._allow_unsigned = allow_unsigned

    def has_roots(self) -> bool:
        return self._certificates.has_roots(MANUFACTURER_ROOT)

    @property
    def unsigned_allowed(self) -> bool:
        """The owner's opt-out, in force only while no root is provisioned."""
        return self._allow_unsigned and not self.has_roots()

    def check_certificate(self, pem: str) -> x509.Certificate:
        """Raises CertificateError."""
        from pievse.firmware.updates import bundle_signature

        return bundle_signature.check_signing_certificate(
            pem, self._certificates.roots(MANUFACTURER_ROOT), self._clock.now()
        )

    async def signature_for(self, job: Job) -> Job:
        """Plain UpdateFirmware: the signature and certificate beside the bundle, the
        certificate checked before the bundle comes."""
        if job.signed or job.certificate is not None or self.unsigned_allowed:
            return job
        signature_url, certificate_url = signature_beside(job.location)
        try:
            pem = await self._transfers.fetch(certificate_url, MAX_SIDE_FILE_BYTES)
            signature = await self._transfers.fetch(signature_url, MAX_SIDE_FILE_BYTES)
        except TransferError as exc:
            raise MissingSignature(exc.status, f"no signature beside the bundle: {exc}") from exc
        try:
            certificate = self.check_certificate(pem.decode("utf-8", "replace"))
        except CertificateError as exc:
            raise Refusal(
                "InvalidFirmwareSigningCertificate", str(exc), "InstallationFailed"
            ) from None
        return replace(job, certificate=certificate, signature=signature.decode("ascii", "replace"))

    async def verify(self, job: Job, bundle: BinaryIO) -> bool:
        """Whether a signature was verified (False: the owner's opt-out lets an unsigned
        bundle in); raises Refusal when neither holds."""
        if job.certificate is None:
            if not self.unsigned_allowed:
                raise Refusal(
                    "InvalidFirmwareSignature", "the bundle is not signed", "InstallationFailed"
                )
            log.warning("installing a bundle nobody signed: [firmware] allow_unsigned is set")
            return False
        from pievse.firmware.updates import bundle_signature

        try:
            await in_worker(
                bundle_signature.verify_signature, bundle, job.signature, job.certificate
            )
        except BundleError as exc:
            status = "InvalidSignature" if job.signed else "InstallationFailed"
            raise Refusal("InvalidFirmwareSignature", str(exc), status) from None
        return True
