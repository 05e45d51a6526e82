"""The OCPP 2.0.1 front over the shared core (`Front` in `front.contract`): its dialect, a
BootNotification with the reason for this start, idTokens, TransactionEvent, one
StatusNotification per EVSE connector, the firmware and log notifications, and one handler
per functional block, with what watches the control steps in 2.0.1 terms (problems as
NotifyEvent, external limits, the charging rate, variable monitors).

What the CSMS set through either version lives in the same store: configuration keys are the
device model's variables, availability, the local list and cache, sessions and the durable
outbox are shared, so a box that changes version keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.meter_values import meter_value as offered_value
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.status_reporter import Observed
from pievse.firmware.front.contract import (
    Box,
    Core,
    Identity,
    JobReports,
    Served,
    Transactions,
    status_payload,
)
from pievse.firmware.ocpp201 import identity, status_notifications
from pievse.firmware.ocpp201.blocks.authorization import ask_csms
from pievse.firmware.ocpp201.blocks.front_blocks import blocks
from pievse.firmware.ocpp201.box_model import places
from pievse.firmware.ocpp201.charging_rate import ChargingRateWatch
from pievse.firmware.ocpp201.event_ids import EventIds
from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.network_profiles import NetworkProfile, NetworkProfiles
from pievse.firmware.ocpp201.problem_events import ProblemEvents
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands
from pievse.firmware.ocpp201.transaction_answers import TransactionAnswers
from pievse.firmware.ocpp201.transaction_events import TransactionEvents
from pievse.firmware.rpc.dialects import OCPP201
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.updates.firmware_updates import FINAL


class Ocpp201Front:
    """One per box; `transactions` keeps the events and the TxStartedMeasurands its blocks
    and device model share."""

    dialect = OCPP201
    connectors = status_notifications.CONNECTORS

    def __init__(self) -> None:
        self._events: TransactionEvents | None = None
        self._started: StartedMeasurands | None = None

    def boot_payload(self, who: Identity, restarted_for: str | None) -> dict[str, Any]:
        """Why this start: the restart the box was told to make before it, else a power-up."""
        return identity.boot_payload(
            who, identity.RESTART_REASONS.get(restarted_for or "", "PowerUp")
        )

    async def ask_csms(self, csms: CsmsSession, id_tag: str) -> IdTagInfo:
        return await ask_csms(csms, id_tag)

    def transactions(
        self, box: Box, csms: CsmsSession, authorizer: Authorizer, refused: Callable[[int], None]
    ) -> Transactions:
        controller = box.controller
        self._events = TransactionEvents(
            box.outbox,
            box.store,
            box.clock,
            lambda: csms.accepted,
            lambda: controller.session,
            lambda: controller.connector_status().status,
            lambda: controller.supervisor.faults(),
        )
        self._started = StartedMeasurands(box.store, box.keys)
        TransactionAnswers(box.outbox, authorizer, refused)
        return Transactions(wire=self._events, begin_measurands=self._started.items)

    def statuses(self, box: ConnectorStatus, connector: ConnectorStatus) -> dict[int, Hashable]:
        """2.0.1 has no station-level status: the box's is folded into its one connector."""
        return {
            status_notifications.CONNECTOR_ID: status_notifications.connector_status(box, connector)
        }

    def render_status(self, connector_id: int, seen: Observed) -> dict[str, Any]:
        return status_notifications.notification(connector_id, seen)

    def job_reports(self, outbox: Outbox) -> JobReports:
        """2.0.1 has one FirmwareStatusNotification, in the signed form's statuses, and no
        GetDiagnostics (GetLog does its work), so no diagnostics job ever reports."""

        def firmware(status: str, _signed: bool, request_id: int | None) -> None:
            payload = status_payload(status, request_id)
            (outbox.put_durable if status in FINAL else outbox.put)(
                "FirmwareStatusNotification", payload
            )

        def log(status: str, request_id: int | None) -> None:
            outbox.put("LogStatusNotification", status_payload(status, request_id))

        return JobReports(firmware=firmware, diagnostics=lambda _status: None, log=log)

    def serve(self, box: Box, core: Core) -> Served:
        assert self._events is not None and self._started is not None, "transactions() first"
        events, outbox, clock, controller = self._events, box.outbox, box.clock, box.controller
        event_ids = EventIds(box.store)
        problems = ProblemEvents(
            outbox,
            event_ids,
            clock,
            lambda: places(box),
            events.current_transaction_id,
            lambda: core.csms.accepted,
        )
        external_limits = ExternalLimits(
            outbox, box.store, clock, lambda: controller.offer, lambda: core.csms.accepted
        )
        rate = ChargingRateWatch(
            events.rate_changed,
            lambda: controller.session,
            lambda: controller.offered_a,
            lambda: external_limits.significance_pct,
            clock.monotonic,
            lambda: offered_value(clock.now(), ["Current.Offered"], box.reading(), "Other"),
        )

        def expired(reservation_id: int) -> None:
            outbox.put(
                "ReservationStatusUpdate",
                {"reservationId": reservation_id, "reservationUpdateStatus": "Expired"},
            )

        box.reservations.expiry_listeners.append(expired)
        handlers, monitors = blocks(
            box,
            core,
            events=events,
            event_ids=event_ids,
            network=_network_profiles(box, core.security),
            external_limits=external_limits,
            started_measurands=self._started,
        )
        return Served(
            handlers=handlers,
            observers=[
                events.observe,
                problems.observe,
                external_limits.observe,
                rate.observe,
                monitors.observe,
            ],
            on_accepted=[problems.resync, external_limits.resync],
        )


def _network_profiles(box: Box, security: ConnectionSecurity) -> NetworkProfiles:
    """Slot 1 is the connection 1.6 would make (the config file's, with the security
    profile as the config file or a 1.6 CSMS set it); the link follows the slot in use."""
    profile = security.committed.profile
    network = NetworkProfiles(
        box.store,
        NetworkProfile(security.url(profile), profile, box.settings.response_timeout_s),
    )
    security.follow(network)
    return network
