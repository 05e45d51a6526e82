"""A signed firmware update as the CSMS asks it: 1.6's SignedUpdateFirmware (Security
Whitepaper) and 2.0.1's UpdateFirmware carry the same fields and take the same answers, so
the request is read and judged once, here."""

from __future__ import annotations

import logging
from typing import Any

from pievse.firmware.clock import parse_ocpp_datetime
from pievse.firmware.security.certificate_store import CertificateError
from pievse.firmware.updates.firmware_updates import FirmwareUpdates
from pievse.firmware.updates.update_job import Job

log = logging.getLogger(__name__)


def signed_update(
    updates: FirmwareUpdates,
    request_id: int,
    firmware: dict[str, Any],
    retries: int,
    retry_interval_s: int,
) -> tuple[str, Job | None]:
    """(status, the job to start once answered). `firmware` as the ocpp library hands it
    (snake_case): Rejected for a date that cannot be read, InvalidCertificate for a signing
    certificate the box does not trust; Accepted (the caller's acceptance says whether it
    cancels another).
    An unsigned image (2.0.1 makes the signature optional) is Rejected with a security
    event: the box installs only what its manufacturer signed (unless the owner's opt-out
    holds: no ManufacturerRootCertificate provisioned and `[firmware] allow_unsigned`)."""
    unverified = updates.unsigned_allowed
    if not unverified and not (firmware.get("signing_certificate") and firmware.get("signature")):
        log.warning("firmware update %d refused: not signed", request_id)
        updates.refuse_unsigned(f"request {request_id}: no signature or signing certificate")
        return "Rejected", None
    try:
        retrieve = parse_ocpp_datetime(firmware["retrieve_date_time"])
        install_text = firmware.get("install_date_time")
        install = None if install_text is None else parse_ocpp_datetime(install_text)
    except ValueError as exc:
        log.warning("firmware update %d refused: %s", request_id, exc)
        return "Rejected", None
    try:
        certificate = (
            None if unverified else updates.signing_certificate(firmware["signing_certificate"])
        )
    except CertificateError as exc:
        log.warning("firmware update %d: signing certificate refused: %s", request_id, exc)
        return "InvalidCertificate", None
    job = Job(
        firmware["location"],
        retrieve,
        retries,
        retry_interval_s,
        signed=True,
        request_id=request_id,
        install_at=install,
        certificate=certificate,
        signature=firmware.get("signature") or "",
    )
    return "Accepted", job


class SignedUpdateRequests:
    """The request of either version answered first and its update started after, each from
    its own request's fields: nothing waits here between the two, where an overlapping
    request could take its place."""

    def __init__(
        self, updates: FirmwareUpdates, default_retries: int, default_retry_interval_s: int
    ) -> None:
        self._updates = updates
        self._retries = default_retries
        self._interval = default_retry_interval_s

    def answer(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None,
        retry_interval: int | None,
    ) -> str:
        status, job = self._judged(request_id, firmware, retries, retry_interval)
        if job is not None and self._updates.accept(job):
            return "AcceptedCanceled"
        return status

    def start(
        self,
        status: str,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        """After the answer (`status`) went out: the accepted update begins."""
        if not status.startswith("Accepted"):
            return
        job = self._judged(request_id, firmware, retries, retry_interval)[1]
        if job is not None:
            self._updates.begin(job)

    def _judged(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None,
        retry_interval: int | None,
    ) -> tuple[str, Job | None]:
        return signed_update(
            self._updates,
            request_id,
            firmware,
            self._retries if retries is None else retries,
            self._interval if retry_interval is None else retry_interval,
        )
