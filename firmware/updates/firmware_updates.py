"""Firmware updates from the CSMS: UpdateFirmware (OCPP 1.6 Firmware Management) and
SignedUpdateFirmware (Security Whitepaper), from the download to the report after the restart.

    [DownloadScheduled] Downloading [DownloadPaused Downloading ...] Downloaded
    [SignatureVerified] [InstallScheduled] Installing [InstallRebooting] -- restart --
    Installed

or one of DownloadFailed, InvalidSignature, InstallationFailed, InstallVerificationFailed.
The bracketed states are the signed form's only (FirmwareStatusNotification has none of
them). Installing waits until no transaction runs (and until installDateTime). The new
release is installed beside the running one, `current` is switched, and the process restarts
into it; the new release must register (BootNotification Accepted) within
`verify_timeout_s`, or it switches `current` back and restarts the old one, which then
reports InstallationFailed. The record of all that is a file the guard can read too
(update_record).

Only a bundle whose signature verifies against a provisioned ManufacturerRootCertificate is
installed, whichever message brought it: the signed forms carry the signature, plain
UpdateFirmware finds it beside the bundle (`signature_beside`). With no root provisioned
every update is refused (InstallationFailed and a security event) unless the owner's config
file opts out (`UpdateLimits.allow_unsigned`). The signature is checked in a worker thread
over chunks of the one open file the install then extracts; canceling the job stops both.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pievse.firmware.clock import Clock
from pievse.firmware.security.certificate_store import CertificateError, CertificateStore
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.single_job import SingleJob
from pievse.firmware.transfer.file_transfer import FileTransfers
from pievse.firmware.transfer.transfer_error import FINAL_FAILURES, TransferError
from pievse.firmware.updates import update_record
from pievse.firmware.updates.bundle_trust import BundleTrust
from pievse.firmware.updates.release_bundle import BundleError, read_manifest
from pievse.firmware.updates.release_guard import roll_back
from pievse.firmware.updates.releases import ReleaseError, Releases
from pievse.firmware.updates.update_job import (
    Job,
    MissingSignature,
    Refusal,
    UpdateLimits,
    opened_once,
)
from pievse.firmware.updates.update_record import UpdateRecord
from pievse.firmware.updates.worker_thread import in_worker

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)
FINAL = frozenset(
    {
        "Installed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "DownloadFailed",
        "InvalidSignature",
    }
)
UNSIGNED_EQUIVALENT = {
    "DownloadScheduled": "Idle",
    "DownloadPaused": "Downloading",
    "SignatureVerified": "Downloaded",
    "InstallScheduled": "Downloaded",
    "InstallRebooting": "Installing",
}
NOT_DOWNLOADED = frozenset({"Idle", "DownloadScheduled", "Downloading", "DownloadPaused"})
"""Where an update the box stops ends as DownloadFailed; past them, InstallationFailed."""
WAIT_FOR_IDLE_S = 1.0
Notify = Callable[[str, bool, int | None], None]
"""(status, signed, requestId): sends (Signed)FirmwareStatusNotification."""


def _name(job: Job) -> str:
    """What an accepted job is known by between its answer and its begin: two requests
    alike in these are the same update, whichever of them begins it."""
    return f"{job.request_id} {job.location} {job.retrieve_at.isoformat()}"


class FirmwareUpdates:
    def __init__(
        self,
        releases: Releases,
        data_dir: Path,
        certificates: CertificateStore,
        events: SecurityLog,
        clock: Clock,
        version: str,
        limits: UpdateLimits,
        transfers: FileTransfers,
        notify: Notify,
        installable: Callable[[], bool],
        restart: Callable[[str], Awaitable[None]],
    ) -> None:
        self._releases = releases
        self._record_path = update_record.path_in(data_dir)
        self._downloads = data_dir / "firmware"
        self._trust = BundleTrust(certificates, clock, transfers, limits.allow_unsigned)
        self._events = events
        self._clock = clock
        self.version = version
        self._limits = limits
        self._transfers = transfers
        self._notify = notify
        self._installable = installable
        self._restart = restart
        self._update = SingleJob("firmware update")
        self._unfinished: Job | None = None
        """The job under way until it reports its end or its switch is on record."""
        self._watch: asyncio.Task[None] | None = None
        self._registered = asyncio.Event()
        self.status = "Idle"
        self.signed = False
        self.request_id: int | None = None

    # --- requests ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """An update is under way (also one waiting for its retrieve date)."""
        return self._update.running

    @property
    def unsigned_allowed(self) -> bool:
        """The owner's opt-out (`[firmware] allow_unsigned`), in force only while no
        ManufacturerRootCertificate is provisioned."""
        return self._trust.unsigned_allowed

    def update(self, job: Job) -> None:
        """Starts `job`, canceling the one under way."""
        self._update.start(lambda: self._run(job))
        self._under_way(job)

    def accept(self, job: Job) -> bool:
        """A request answered now and begun by `begin(job)` once the CSMS has the answer:
        whether it cancels an update under way or one answered and not begun yet (its answer
        is then AcceptedCanceled, however the two requests' steps interleave)."""
        return self._update.accept(lambda: self._run(job), _name(job))

    def begin(self, job: Job) -> None:
        """The accepted `job` starts, unless a request answered since replaced it."""
        if self._update.begin(_name(job)):
            self._under_way(job)

    def _under_way(self, job: Job) -> None:
        self.signed, self.request_id, self.status = job.signed, job.request_id, "Idle"
        self._unfinished = job

    def signing_certificate(self, pem: str) -> x509.Certificate:
        """Checked before anything is downloaded; raises CertificateError (recorded)."""
        try:
            return self._trust.check_certificate(pem)
        except CertificateError as exc:
            self._events.record("InvalidFirmwareSigningCertificate", str(exc))
            raise

    def refuse_unsigned(self, reason: str) -> None:
        """A request without a signature, refused where it is answered: recorded."""
        self._events.record("InvalidFirmwareSignature", reason)

    def current_status(self, signed_form: bool) -> str:
        """What a trigger answers: the state under way, Idle when none. The unsigned form
        has fewer states, so a signed job's extra ones show as the nearest it has."""
        if signed_form:
            return self.status
        return UNSIGNED_EQUIVALENT.get(self.status, self.status)

    # --- the job -------------------------------------------------------------------------

    def _report(self, job: Job, status: str) -> None:
        if status in FINAL:
            self._unfinished = None
        self.status = "Idle" if status in FINAL else status
        log.info("firmware update: %s", status)
        self._notify(status, job.signed, job.request_id)

    async def _sleep_until(self, moment: datetime | None) -> None:
        if moment is None:
            return
        delay = (moment - self._clock.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run(self, job: Job) -> None:
        try:
            if job.signed and job.retrieve_at > self._clock.now():
                self._report(job, "DownloadScheduled")
            await self._sleep_until(job.retrieve_at)
            if job.certificate is None and not (self._trust.has_roots() or self.unsigned_allowed):
                raise Refusal(
                    "InvalidFirmwareSigningCertificate",
                    "no ManufacturerRootCertificate is provisioned (and no [firmware] "
                    "allow_unsigned): nothing can be verified",
                    "InstallationFailed",
                )
            downloaded = await self._download(job)
            if downloaded is not None:
                await self._install(*downloaded)
        except Refusal as refusal:
            log.warning("firmware update refused: %s", refusal)
            self._events.record(refusal.event, str(refusal))
            self._report(job, refusal.status)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("firmware update failed")
            self._report(job, "InstallationFailed")

    async def _download(self, job: Job) -> tuple[Job, Path] | None:
        self._downloads.mkdir(parents=True, exist_ok=True)
        bundle = self._downloads / "update.bundle"
        for attempt in range(job.retries + 1):
            self._report(job, "Downloading")
            try:
                job = await self._trust.signature_for(job)
                size = await self._transfers.download(
                    job.location, bundle, self._limits.max_bundle_bytes
                )
            except TransferError as exc:
                log.warning("firmware download attempt %d: %s", attempt + 1, exc)
                if attempt < job.retries and exc.status not in FINAL_FAILURES:
                    if job.signed:
                        self._report(job, "DownloadPaused")
                    await asyncio.sleep(job.retry_interval_s)
                    continue
                if isinstance(exc, MissingSignature):
                    self._events.record("InvalidFirmwareSignature", str(exc))
                self._report(job, "DownloadFailed")
                return None
            log.info("firmware bundle: %d bytes from %s", size, job.location)
            self._report(job, "Downloaded")
            return job, bundle
        return None

    async def _install(self, job: Job, path: Path) -> None:
        with opened_once(path) as bundle:
            if await self._trust.verify(job, bundle) and job.signed:
                self._report(job, "SignatureVerified")
            try:
                version = (await asyncio.to_thread(read_manifest, bundle)).version
            except BundleError as exc:
                log.warning("firmware bundle refused: %s", exc)
                self._report(job, "InstallationFailed")
                return
            await self._wait_until_installable(job)
            self._report(job, "Installing")
            try:
                installed = await in_worker(self._releases.install, bundle)
            except ReleaseError as exc:
                log.error("firmware %s: %s", version, exc)
                self._report(job, exc.status if job.signed else "InstallationFailed")
                return
        await self._switch(job, installed)

    async def _wait_until_installable(self, job: Job) -> None:
        waiting = job.install_at is not None and job.install_at > self._clock.now()
        if job.signed and (waiting or not self._installable()):
            self._report(job, "InstallScheduled")
        await self._sleep_until(job.install_at)
        while not self._installable():
            await asyncio.sleep(WAIT_FOR_IDLE_S)

    async def _switch(self, job: Job, installed: str) -> None:
        if installed == self.version:
            self._report(job, "Installed")
            return
        running = self._releases.current() or self.version
        update_record.save(
            self._record_path,
            UpdateRecord(
                "verifying",
                installed,
                running,
                time.time() + self._limits.verify_timeout_s,
                job.signed,
                job.request_id,
            ),
        )
        self._unfinished = None  # the record tells the next start how it ended
        self._releases.switch(installed)
        if job.signed:
            self._report(job, "InstallRebooting")
        await self._restart(f"restart into release {installed}")

    # --- after a restart -----------------------------------------------------------------

    def watch_verification(self) -> None:
        """In a new release: go back if registration does not come in time."""
        record = update_record.load(self._record_path)
        if record is None or record.state != "verifying" or record.version != self.version:
            return
        self.signed, self.request_id, self.status = record.signed, record.request_id, "Installing"
        self._watch = asyncio.create_task(self._verify(record), name="firmware-verify")

    async def _verify(self, record: UpdateRecord) -> None:
        remaining = record.deadline - time.time()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                await self._registered.wait()
            return
        except TimeoutError:
            pass
        reason = f"{self.version} did not register within {self._limits.verify_timeout_s:g} s"
        back = roll_back(self._releases, self._record_path, record, reason, "firmware")
        if back is not None:
            await self._restart(f"roll back to release {back}")

    def registered(self) -> None:
        """BootNotification Accepted: settle what an update left behind."""
        self._registered.set()
        record = update_record.load(self._record_path)
        if record is None:
            return
        job = Job("", self._clock.now(), 0, 0, record.signed, record.request_id)
        if record.state == "verifying" and record.version == self.version:
            update_record.clear(self._record_path)
            self._events.record("FirmwareUpdated", f"{record.previous} -> {self.version}")
            self._report(job, "Installed")
        elif record.version != self.version:
            update_record.clear(self._record_path)
            log.error("firmware %s failed: %s", record.version, record.reason or "rolled back")
            self._report(job, "InstallationFailed")

    async def stop(self) -> None:
        """At shutdown (a reset, a version switch, SIGTERM): an update under way ends, and
        says so (durably, so the CSMS hears it after the restart) rather than never."""
        unfinished = self._unfinished if self._update.running else None
        status = self.status
        await self._update.stop()
        if unfinished is not None:
            log.warning("firmware update stopped by the box's shutdown")
            self._report(
                unfinished, "DownloadFailed" if status in NOT_DOWNLOADED else "InstallationFailed"
            )
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
