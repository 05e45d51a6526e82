"""The 2.0.1 front's handlers: one object per functional block, over the shared core and
the device model of this box, in the order the link dispatches to them."""

from __future__ import annotations

from pievse.firmware.front.contract import Box, Core
from pievse.firmware.ocpp201.blocks.authorization import AuthorizationBlock
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
from pievse.firmware.ocpp201.box_model import box_device_model
from pievse.firmware.ocpp201.event_ids import EventIds
from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.network_profiles import NetworkProfiles
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands
from pievse.firmware.ocpp201.transaction_events import TransactionEvents
from pievse.firmware.ocpp201.triggers import Trigger, TriggeredMessages
from pievse.firmware.ocpp201.variable_monitors import VariableMonitors
from pievse.firmware.session.customer_records import CustomerRecords
from pievse.firmware.updates.signed_update_request import SignedUpdateRequests


def blocks(
    box: Box,
    core: Core,
    *,
    events: TransactionEvents,
    event_ids: EventIds,
    network: NetworkProfiles,
    external_limits: ExternalLimits,
    started_measurands: StartedMeasurands,
) -> tuple[list[object], VariableMonitors]:
    """The handlers, and the variable monitors that watch the control steps."""
    controller, outbox, clock, store = box.controller, box.outbox, box.clock, box.store
    monitoring = MonitoringSettings(store)
    model = box_device_model(
        box,
        core,
        network=network,
        monitoring=monitoring,
        external_limits=external_limits,
        started_measurands=started_measurands,
    )
    monitors = VariableMonitors(
        model, store, monitoring, outbox, clock, event_ids, events.current_transaction_id
    )
    security = SecurityBlock(core.certificate_requests)
    triggers = _triggers(box, core, events, security)
    settings = box.settings
    handlers: list[object] = [
        ProvisioningBlock(model, controller, outbox, clock, box.reset),
        NetworkProfileBlock(network, core.security, box.security_log),
        RemoteControlBlock(
            controller,
            box.keys,
            core.authorizer,
            events,
            outbox,
            core.csms,
            core.smart,
            triggers,
        ),
        AvailabilityBlock(box.availability),
        LocalListBlock(core.tags, box.keys),
        ReservationBlock(box.reservations, controller),
        SmartChargingBlock(core.smart, outbox),
        FirmwareBlock(
            SignedUpdateRequests(
                core.jobs.firmware, settings.firmware_retries, settings.firmware_retry_interval_s
            )
        ),
        DiagnosticsBlock(core.jobs.log_uploads),
        MonitoringBlock(monitors, monitoring, outbox, clock),
        CustomerInformationBlock(
            CustomerRecords(store, core.tags), box.reservations, outbox, clock
        ),
        security,
        AuthorizationBlock(core.authorizer),
        DataTransferBlock(core.data_transfers),
    ]
    return handlers, monitors


def _triggers(
    box: Box, core: Core, events: TransactionEvents, security: SecurityBlock
) -> dict[str, Trigger]:
    controller = box.controller
    return TriggeredMessages(
        csms=core.csms,
        statuses=core.statuses,
        transactions=core.transactions,
        events=events,
        current_session=lambda: controller.session,
        jobs=core.jobs,
        sign_certificate=security.request_signing,
    ).senders()
