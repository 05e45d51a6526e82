"""This box's 2.0.1 device model: the variables over the shared key store, reading the
running box through `BoxFacts` (so no variable reaches into the parts themselves)."""

from __future__ import annotations

from pievse.firmware.control.connector_status import ConnectorState, ConnectorStatus
from pievse.firmware.front.contract import Box, Core
from pievse.firmware.ocpp201.box_facts import BoxFacts
from pievse.firmware.ocpp201.device_model import DeviceModel
from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.network_profiles import NetworkProfiles
from pievse.firmware.ocpp201.problem_events import NO_PROBLEM
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands
from pievse.firmware.ocpp201.status_notifications import connector_status
from pievse.firmware.ocpp201.variables import variables
from pievse.firmware.transfer.file_transfer import FTP_SCHEMES, HTTP_SCHEMES

FILE_TRANSFER_PROTOCOLS = ",".join(
    sorted(scheme.upper() for scheme in (*HTTP_SCHEMES, *FTP_SCHEMES))
)


def places(box: Box) -> dict[str, ConnectorStatus]:
    """ "station" and "connector" -> the status there in the domain's terms."""
    return dict(zip(("station", "connector"), box.controller.statuses(), strict=True))


def box_device_model(
    box: Box,
    core: Core,
    *,
    network: NetworkProfiles,
    monitoring: MonitoringSettings,
    external_limits: ExternalLimits,
    started_measurands: StartedMeasurands,
) -> DeviceModel:
    controller, ratings, smart = box.controller, box.ratings, core.smart

    def power_w() -> float | None:
        measured = controller.measurements
        return None if measured is None else measured.power_w

    facts = BoxFacts(
        box.settings.charge_point_id,
        lambda: connector_status(*controller.statuses()),
        lambda: controller.box_status().status != ConnectorState.UNAVAILABLE,
        ratings.phases,
        box.clock.now,
        network,
        lambda: core.security.credentials.profile,
        power_w,
        lambda: {place: s.error_code != NO_PROBLEM for place, s in places(box).items()},
        monitoring,
        external_limits,
        started_measurands,
        core.tags.list_size,
        lambda: len(smart.installed()),
        box.certificates.count,
        ratings.max_current_a * ratings.phases * ratings.nominal_voltage_v,
        FILE_TRANSFER_PROTOCOLS,
        box.settings.reconnect_s,
    )
    return DeviceModel(box.keys, variables(box.keys, facts))
