"""The OCPP services of a box with a CSMS, built once for whichever version's front.

`build_core` builds the shared core in dependency order (the CSMS session, connection
security, the authorizer, the transaction and status reporters, smart charging, the
background jobs), asks the front (`front.contract.Front`) for what differs between
versions, subscribes the core and the front's observers to the controller's published
extension points (session and step listeners, the charging-profile limit) and builds the
link last, with the finished handler list. A box without a CSMS has no `OcppServices`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pievse.firmware.app.ocpp_parts import (
    BoxParts,
    background_jobs,
    box_for,
    connection_security,
    csms_link,
    data_transfers,
    invalid_id_reaction,
    record_clock_set,
)
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.certificate_requests import CertificateRequests
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.key_table import MINIMUM_STATUS_DURATION
from pievse.firmware.csms.link import CsmsLink
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.profile_store import ProfileStore
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.front.contract import Box, Core, Front, Jobs
from pievse.firmware.session.id_tag_store import IdTagStore


@dataclass(frozen=True, kw_only=True)
class OcppServices:
    """What the wallbox, the status document and the API use of the OCPP services."""

    security: ConnectionSecurity
    csms: CsmsSession
    outbox: Outbox
    authorizer: Authorizer
    transactions: TransactionReporter
    statuses: StatusReporter
    smart: SmartCharging
    jobs: Jobs
    link: CsmsLink

    def tasks(self) -> dict[str, Coroutine[Any, Any, None]]:
        """Task name -> what runs for as long as the box does."""
        return {
            "csms-link": self.link.run(),
            "status-notifications": self.statuses.run(),
            "aligned-values": self.transactions.run_clock_aligned(),
            "charging-profiles": self.smart.run(),
        }

    async def stop_jobs(self) -> None:
        jobs = self.jobs
        for job in (jobs.log_uploads, jobs.firmware, jobs.diagnostics_uploads):
            await job.stop()


def build_core(parts: BoxParts, front: Front) -> OcppServices:
    box = box_for(parts)
    csms = CsmsSession(
        front.boot_payload(box.identity, box.restarted_for),
        box.keys,
        box.clock,
        on_clock_set=[lambda skew: record_clock_set(parts.security_log, skew)],
        on_time_refused=[lambda why: parts.security_log.record("InvalidMessages", why)],
    )
    security = connection_security(parts, csms.reconnect)
    tags = IdTagStore(box.store)
    authorizer = Authorizer(csms, front.ask_csms, tags, box.keys, box.clock)
    wire = front.transactions(box, csms, authorizer, invalid_id_reaction(parts).refused)
    core = Core(
        csms=csms,
        security=security,
        authorizer=authorizer,
        tags=tags,
        transactions=TransactionReporter(
            wire.wire, box.session_log, box.keys, box.clock, box.reading, wire.begin_measurands
        ),
        statuses=_statuses(box, front, csms),
        smart=_smart_charging(parts, wire.wire.transaction_id),
        jobs=background_jobs(parts, front.job_reports(box.outbox)),
        certificate_requests=CertificateRequests(
            csms,
            box.keys,
            box.certificates,
            security,
            box.security_log,
            box.settings.charge_point_id,
        ),
        data_transfers=data_transfers(parts),
    )
    served = front.serve(box, core)
    controller = parts.controller
    controller.sessions.listeners.extend([core.transactions, core.smart])
    controller.step_listeners.extend([core.statuses.observe, *served.observers])
    controller.limits.register("charging_profile", core.smart.limit_a)
    link = csms_link(parts, front.dialect, core, list(served.handlers), served.on_accepted)
    return OcppServices(
        security=security,
        csms=csms,
        outbox=box.outbox,
        authorizer=authorizer,
        transactions=core.transactions,
        statuses=core.statuses,
        smart=core.smart,
        jobs=core.jobs,
        link=link,
    )


def _statuses(box: Box, front: Front, csms: CsmsSession) -> StatusReporter:
    controller, keys = box.controller, box.keys
    return StatusReporter(
        front.connectors,
        lambda: front.statuses(*controller.statuses()),
        front.render_status,
        box.outbox,
        lambda: keys.get(MINIMUM_STATUS_DURATION),
        box.clock,
        lambda: csms.accepted,
    )


def _smart_charging(
    parts: BoxParts, transaction_id: Callable[[int], int | str | None]
) -> SmartCharging:
    controller = parts.controller
    return SmartCharging(
        ProfileStore(parts.store),
        parts.keys,
        parts.clock,
        parts.board.ratings,
        lambda: controller.session,
        transaction_id,
        controller.wake,
        lambda: controller.state.phases.in_use,
    )
