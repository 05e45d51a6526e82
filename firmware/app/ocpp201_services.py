"""The OCPP 2.0.1 front on the same box: the same session, link, outbox, authorizer,
transaction timing, status timing, security and jobs as 1.6, with 2.0.1's messages and
functional blocks (`[ocpp] version = "2.0.1"`).

What the CSMS set through either version lives in the same store: configuration keys are the
device model's variables, availability, the local list and cache, sessions and the durable
outbox are shared, so a box that changes version keeps them.
"""

from __future__ import annotations

from typing import Any

from pievse.firmware.app.ocpp_parts import (
    BoxParts,
    FirmwareStatus,
    OcppServices,
    background_jobs,
    certificate_requests,
    connection_security,
    csms_link,
    data_transfers,
    invalid_id_reaction,
    reading,
    record_clock_set,
    status_payload,
)
from pievse.firmware.control.connector_status import ConnectorStatus
from pievse.firmware.csms.authorizer import Authorizer
from pievse.firmware.csms.connection_security import ConnectionSecurity
from pievse.firmware.csms.meter_values import meter_value as offered_value
from pievse.firmware.csms.network_profiles import NetworkProfile, NetworkProfiles
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.profile_store import ProfileStore
from pievse.firmware.csms.session import CsmsSession
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.csms.status_reporter import StatusReporter
from pievse.firmware.csms.transaction_reporter import TransactionReporter
from pievse.firmware.ocpp201.blocks.authorization import AuthorizationBlock, ask_csms
from pievse.firmware.ocpp201.blocks.availability import AvailabilityBlock
from pievse.firmware.ocpp201.blocks.customer_information import CustomerInformationBlock
from pievse.firmware.ocpp201.blocks.data_transfer import DataTransferBlock
from pievse.firmware.ocpp201.blocks.diagnostics import DiagnosticsBlock
from pievse.firmware.ocpp201.blocks.firmware_management import FirmwareBlock
from pievse.firmware.ocpp201.blocks.local_list import LocalListBlock
from pievse.firmware.ocpp201.blocks.monitoring import MonitoringBlock
from pievse.firmware.ocpp201.blocks.network_profile import NetworkProfileBlock
from pievse.firmware.ocpp201.blocks.provisioning import ProvisioningBlock
from pievse.firmware.ocpp201.blocks.remote_control import RemoteControlBlock
from pievse.firmware.ocpp201.blocks.reservation import ReservationBlock
from pievse.firmware.ocpp201.blocks.security import SecurityBlock
from pievse.firmware.ocpp201.blocks.smart_charging import SmartChargingBlock
from pievse.firmware.ocpp201.box_facts import BoxFacts
from pievse.firmware.ocpp201.charging_rate import ChargingRateWatch
from pievse.firmware.ocpp201.device_model import DeviceModel
from pievse.firmware.ocpp201.event_ids import EventIds
from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.identity import RESTART_REASONS, boot_payload
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.problem_events import NO_PROBLEM, ProblemEvents
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands
from pievse.firmware.ocpp201.status_notifications import (
    CONNECTORS,
    connector_status,
    notification,
)
from pievse.firmware.ocpp201.transaction_answers import TransactionAnswers
from pievse.firmware.ocpp201.transaction_events import TransactionEvents, meter_value
from pievse.firmware.ocpp201.variable_monitors import VariableMonitors
from pievse.firmware.ocpp201.variables import variables
from pievse.firmware.rpc.dialects import OCPP201
from pievse.firmware.session.customer_records import CustomerRecords
from pievse.firmware.session.id_tag_store import IdTagStore
from pievse.firmware.transfer.file_transfer import FTP_SCHEMES, HTTP_SCHEMES
from pievse.firmware.updates.firmware_updates import FINAL
from pievse.firmware.updates.signed_update_request import SignedUpdateRequests


def build_ocpp201_services(parts: BoxParts, outbox: Outbox) -> OcppServices:
    config, controller, keys, clock, store = (
        parts.config,
        parts.controller,
        parts.keys,
        parts.clock,
        parts.store,
    )
    csms = CsmsSession(
        boot_payload(parts.identity, _boot_reason(parts)),
        keys,
        clock,
        on_clock_set=[lambda skew: record_clock_set(parts.security_log, skew)],
        on_time_refused=[lambda why: parts.security_log.record("InvalidMessages", why)],
    )
    security = connection_security(parts, csms.reconnect)
    network = _network_profiles(parts, security)
    tags = IdTagStore(store)
    authorizer = Authorizer(csms, ask_csms, tags, keys, clock)

    def status_now() -> str:
        return connector_status(*controller.statuses())

    events = TransactionEvents(
        outbox,
        store,
        clock,
        lambda: csms.accepted,
        lambda: controller.session,
        lambda: controller.connector_status().status,
        lambda: controller.supervisor.faults(),
    )
    started_measurands = StartedMeasurands(store, keys)
    transactions = TransactionReporter(
        events, parts.session_log, keys, clock, lambda: reading(parts), started_measurands.items
    )

    refused = invalid_id_reaction(parts).refused
    TransactionAnswers(outbox, authorizer, refused)
    statuses = StatusReporter(
        CONNECTORS,
        lambda: {1: status_now()},
        notification,
        outbox,
        lambda: keys.number("MinimumStatusDuration"),
        clock,
        lambda: csms.accepted,
    )
    smart = SmartCharging(
        ProfileStore(store),
        keys,
        clock,
        parts.board.ratings,
        lambda: controller.session,
        events.transaction_id,
        controller.wake,
        lambda: controller.phases.in_use,
    )
    jobs = background_jobs(parts, outbox, _firmware_status(outbox))
    controller.sessions.listeners.extend([transactions, smart])
    event_ids = EventIds(store)

    def places() -> dict[str, ConnectorStatus]:
        return dict(zip(("station", "connector"), controller.statuses(), strict=True))

    problems = ProblemEvents(
        outbox,
        event_ids,
        clock,
        places,
        events.current_transaction_id,
        lambda: csms.accepted,
    )
    external_limits = ExternalLimits(
        outbox, store, clock, lambda: controller.offer, lambda: csms.accepted
    )
    rate = ChargingRateWatch(
        events.rate_changed,
        lambda: controller.session,
        lambda: controller.offered_a,
        lambda: external_limits.significance_pct,
        clock.monotonic,
        lambda: offered_value(clock.now(), ["Current.Offered"], reading(parts), "Other"),
    )
    controller.step_listeners.extend(
        [statuses.observe, events.observe, problems.observe, external_limits.observe, rate.observe]
    )
    parts.reservations.expiry_listeners.append(
        lambda reservation_id: outbox.put(
            "ReservationStatusUpdate",
            {"reservationId": reservation_id, "reservationUpdateStatus": "Expired"},
        )
    )
    controller.limits.register("charging_profile", smart.limit_a)
    monitoring = MonitoringSettings(store)

    def power_w() -> float | None:
        measured = controller.measurements
        return None if measured is None else measured.power_w

    ratings = parts.board.ratings
    model = DeviceModel(
        keys,
        variables(
            keys,
            BoxFacts(
                config.charge_point.id,
                status_now,
                lambda: controller.box_status().status != "Unavailable",
                parts.board.ratings.phases,
                clock.now,
                network,
                lambda: security.credentials.profile,
                power_w,
                lambda: {place: s.error_code != NO_PROBLEM for place, s in places().items()},
                monitoring,
                external_limits,
                started_measurands,
                tags.list_size,
                lambda: len(smart.installed()),
                parts.certificates.count,
                ratings.max_current_a * ratings.phases * ratings.nominal_voltage_v,
                ",".join(sorted(scheme.upper() for scheme in (*HTTP_SCHEMES, *FTP_SCHEMES))),
                (parts.config.ocpp.reconnect_min_s, parts.config.ocpp.reconnect_max_s),
            ),
        ),
    )
    monitors = VariableMonitors(
        model, store, monitoring, outbox, clock, event_ids, events.current_transaction_id
    )
    controller.step_listeners.append(monitors.observe)

    async def restart(kind: str) -> None:
        await parts.restart(kind, None)

    async def meter_values(_evse: dict[str, Any] | None) -> None:
        value = transactions.current_value("Trigger")
        converted = None if value is None else meter_value(value)
        if converted is not None:
            await csms.request("MeterValues", {"evseId": 1, "meterValue": [converted]})

    async def transaction_event(_evse: dict[str, Any] | None) -> None:
        session = controller.session
        if session is not None:
            events.triggered(session, transactions.current_value("Trigger"))

    async def status(_evse: dict[str, Any] | None) -> None:
        await csms.request("StatusNotification", statuses.notification(1))

    async def boot(_evse: dict[str, Any] | None) -> None:
        await csms.boot()

    async def heartbeat(_evse: dict[str, Any] | None) -> None:
        csms.set_time((await csms.request("Heartbeat", {}))["currentTime"])

    async def firmware_status(_evse: dict[str, Any] | None) -> None:
        firmware = jobs.firmware
        await csms.request(
            "FirmwareStatusNotification",
            status_payload(firmware.current_status(signed_form=True), firmware.request_id),
        )

    async def log_status(_evse: dict[str, Any] | None) -> None:
        await jobs.log_uploads.notify_current()

    security_block = SecurityBlock(certificate_requests(parts, csms, security))

    async def sign_certificate(_evse: dict[str, Any] | None) -> None:
        await security_block.request_signing()

    blocks: list[object] = [
        ProvisioningBlock(model, controller, outbox, clock, restart),
        NetworkProfileBlock(network, security, parts.security_log),
        RemoteControlBlock(
            controller,
            keys,
            authorizer,
            events,
            outbox,
            csms,
            smart,
            {
                "BootNotification": boot,
                "Heartbeat": heartbeat,
                "StatusNotification": status,
                "MeterValues": meter_values,
                "TransactionEvent": transaction_event,
                "FirmwareStatusNotification": firmware_status,
                "LogStatusNotification": log_status,
                "SignChargingStationCertificate": sign_certificate,
            },
        ),
        AvailabilityBlock(parts.availability),
        LocalListBlock(tags, keys),
        ReservationBlock(parts.reservations, controller),
        SmartChargingBlock(smart, outbox),
        FirmwareBlock(
            SignedUpdateRequests(
                jobs.firmware, config.firmware.retries, config.firmware.retry_interval_s
            )
        ),
        DiagnosticsBlock(jobs.log_uploads),
        MonitoringBlock(monitors, monitoring, outbox, clock),
        CustomerInformationBlock(CustomerRecords(store, tags), parts.reservations, outbox, clock),
        security_block,
        AuthorizationBlock(authorizer),
        DataTransferBlock(data_transfers(parts)),
    ]
    link = csms_link(
        parts,
        OCPP201,
        csms,
        outbox,
        blocks,
        security,
        statuses,
        jobs,
        [problems.resync, external_limits.resync],
    )
    return OcppServices(
        security, csms, outbox, authorizer, transactions, statuses, smart, jobs, link
    )


def _network_profiles(parts: BoxParts, security: ConnectionSecurity) -> NetworkProfiles:
    """Slot 1 is the connection 1.6 would make (the config file's, with the security
    profile as the config file or a 1.6 CSMS set it); the link follows the slot in use."""
    profile = security.committed.profile
    network = NetworkProfiles(
        parts.store,
        NetworkProfile(security.url(profile), profile, parts.config.ocpp.response_timeout_s),
    )
    security.follow(network)
    return network


def _boot_reason(parts: BoxParts) -> str:
    """Why this start: the restart the box was told to make before it, else a power-up."""
    return RESTART_REASONS.get(parts.restarted_for or "", "PowerUp")


def _firmware_status(outbox: Outbox) -> FirmwareStatus:
    """2.0.1 has one FirmwareStatusNotification, in the signed form's statuses."""

    def firmware_status(status: str, _signed: bool, request_id: int | None) -> None:
        payload = status_payload(status, request_id)
        (outbox.put_durable if status in FINAL else outbox.put)(
            "FirmwareStatusNotification", payload
        )

    return firmware_status
