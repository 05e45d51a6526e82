"""The contract between the shared OCPP core and one version's front.

`build_core` (the composition root) builds the shared services once for any version and asks
the front only for what differs between versions: its dialect, its BootNotification, how it
asks the CSMS about a token, its transaction messages, how it names and renders connector
statuses, its job notifications, and last the handlers and observers that serve the CSMS.
A new version is a package with one class that satisfies `Front`, and one entry in the
composition root's table of fronts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pievse.firmware.clock import Clock
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.control.station import Station
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.certificate_requests import CertificateRequests
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.data_transfer import DataTransfers
from pievse.firmware.csms.meter_values import Reading
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.csms.status_reporter import Observed, StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter, TransactionWire
from pievse.firmware.diagnostics.diagnostics_upload import DiagnosticsUploads
from pievse.firmware.diagnostics.log_uploads import LogUploads
from pievse.firmware.persistence.store import Store
from pievse.firmware.rpc.dialects import Dialect
from pievse.firmware.security.certificate_store import CertificateStore
from pievse.firmware.security.security_log import SecurityLog
from pievse.firmware.session.availability import Availability
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore
from pievse.firmware.session.reservations import ReservationBook
from pievse.firmware.session.sessions import SessionLog
from pievse.firmware.updates.firmware_updates import FirmwareUpdates
from pievse.hal.interfaces import Ratings


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Who the box is, neutral of version; each front's BootNotification says it its way
    (within 1.6's lengths, which 2.0.1's exceed)."""

    vendor: str
    model: str
    serial: str
    firmware: str
    meter_type: str
    meter_serial: str


@dataclass(frozen=True, kw_only=True)
class FrontSettings:
    """What of the config file a front reads."""

    charge_point_id: str
    firmware_retries: int
    firmware_retry_interval_s: int
    response_timeout_s: float
    reconnect_s: tuple[float, float]
    """The wait after a failed connection: (first, longest) ceiling of the back-off."""


@dataclass(frozen=True, kw_only=True)
class Box:
    """The standalone box a front stands on, built before any OCPP service."""

    controller: Station
    """What a front reads of the controller and asks of it (never its step or core)."""
    keys: ConfigurationKeys
    clock: Clock
    store: Store
    outbox: Outbox
    session_log: SessionLog
    reservations: ReservationBook
    availability: Availability
    certificates: CertificateStore
    security_log: SecurityLog
    ratings: Ratings
    settings: FrontSettings
    identity: Identity
    restarted_for: str | None
    """The restart (Soft, Hard, Firmware, VersionSwitch) the box made before this start."""
    reset: Callable[[str], Awaitable[None]]
    """A CSMS's Reset of this kind (Soft, Hard)."""
    reading: Callable[[], Reading]
    """What the meter and the controller read now, as the meter values take it."""


@dataclass(frozen=True, kw_only=True)
class Jobs:
    """The background jobs a CSMS request starts (firmware, diagnostics, log uploads)."""

    firmware: FirmwareUpdates
    diagnostics_uploads: DiagnosticsUploads
    log_uploads: LogUploads


@dataclass(frozen=True, kw_only=True)
class JobReports:
    """How the version tells the CSMS where a background job stands; each queues its
    notification in the outbox."""

    firmware: Callable[[str, bool, int | None], None]
    """(status, signed form asked, requestId) -> FirmwareStatusNotification or its signed
    form; final states durably (the result of an update must reach the CSMS)."""
    diagnostics: Callable[[str], None]
    """GetDiagnostics' status (1.6 only)."""
    log: Callable[[str, int | None], None]
    """(status, requestId) of a GetLog upload."""


@dataclass(frozen=True, kw_only=True)
class Transactions:
    """A version's transaction messages, for the shared `TransactionReporter`."""

    wire: TransactionWire
    begin_measurands: Callable[[], list[str]] | None = None
    """What the Transaction.Begin value carries, where the version has its own key for it
    (2.0.1's TxStartedMeasurands); None: MeterValuesSampledData's."""


@dataclass(frozen=True, kw_only=True)
class Core:
    """The shared services `build_core` built, the same for every version."""

    csms: CsmsSession
    security: ConnectionSecurity
    authorizer: Authorizer
    tags: IdTagStore
    transactions: TransactionReporter
    statuses: StatusReporter
    smart: SmartCharging
    jobs: Jobs
    certificate_requests: CertificateRequests
    data_transfers: DataTransfers


@dataclass(frozen=True, kw_only=True)
class Served:
    """What a front adds on top of the core."""

    handlers: Sequence[object]
    """One handler object per feature profile or functional block, in dispatch order."""
    observers: Sequence[Callable[[], None]] = ()
    """Called after every control step, after the core's status reporter."""
    on_accepted: Sequence[Callable[[], None]] = ()
    """Called after each registration, after the core's own resync."""


class Front(Protocol):
    """One OCPP version over the shared core. `build_core` calls each method once, in the
    order they are declared here, so a front may keep what one call built for a later one
    (the 2.0.1 transaction events serve its blocks too); none may send anything yet."""

    dialect: Dialect
    connectors: tuple[int, ...]
    """The connector ids StatusNotification reports on."""

    def boot_payload(self, identity: Identity, restarted_for: str | None) -> dict[str, Any]:
        """The BootNotification payload, for the whole life of this start."""
        ...

    async def ask_csms(self, csms: CsmsSession, id_tag: str) -> IdTagInfo:
        """Authorize in the version's terms; raises `RequestFailed` offline."""
        ...

    def transactions(
        self, box: Box, csms: CsmsSession, authorizer: Authorizer, refused: Callable[[int], None]
    ) -> Transactions:
        """The transaction messages; `refused(session_id)`: the CSMS refused the token of a
        running session (E05: the core decides what follows)."""
        ...

    def statuses(self, box: ConnectorStatus, connector: ConnectorStatus) -> dict[int, Hashable]:
        """Connector id -> the status as the version names it; equal values are no change."""
        ...

    def render_status(self, connector_id: int, seen: Observed) -> dict[str, Any]:
        """The StatusNotification payload of what was seen on a connector."""
        ...

    def job_reports(self, outbox: Outbox) -> JobReports: ...

    def serve(self, box: Box, core: Core) -> Served:
        """The handlers the link dispatches to, and what watches the control steps."""
        ...


def status_payload(status: str, request_id: int | None) -> dict[str, Any]:
    """A job's status notification, with the requestId of the request it reports on, if any
    (the same shape in the Security Whitepaper and in 2.0.1)."""
    payload: dict[str, Any] = {"status": status}
    if request_id is not None:
        payload["requestId"] = request_id
    return payload
