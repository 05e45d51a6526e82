"""What the 2.0.1 device model's read variables read from the running box, handed in by the
front's assembly so the variables never reach into the parts themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.network_profiles import NetworkProfiles
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands


@dataclass(frozen=True)
class BoxFacts:
    """What read variables read from the running box."""

    charge_point_id: str
    availability: Callable[[], str]
    """The connector's 2.0.1 status now (AvailabilityState)."""
    station_operative: Callable[[], bool]
    phases: int
    now: Callable[[], datetime]
    network: NetworkProfiles
    security_profile: Callable[[], int]
    """The profile of the connection in use."""
    power_w: Callable[[], float | None]
    """The EVSE's active power now; None before the first meter reading."""
    problems: Callable[[], dict[str, bool]]
    """"station" and "connector" -> whether a fault is there now."""
    monitoring: MonitoringSettings
    external_limits: ExternalLimits
    started_measurands: StartedMeasurands
    local_list_entries: Callable[[], int]
    installed_profiles: Callable[[], int]
    installed_certificates: Callable[[], int]
    rated_power_w: float
    """The EVSE's most: its rated current on all its phases at the nominal voltage."""
    file_transfer_protocols: str
    """What GetLog, UpdateFirmware and GetDiagnostics can fetch from or upload to."""
    reconnect_s: tuple[float, float]
    """The wait after a failed connection: (first, longest) ceiling of the back-off."""
