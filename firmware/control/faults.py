"""The fault table: what each fault is, where it is reported and with which OCPP error code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    """Declared from most to least severe: a status shows the worst active fault."""

    CONTACTOR_WELD = "contactor_weld"
    CONTACTOR_FAILURE = "contactor_failure"
    PHASE_CONTACTOR = "phase_contactor"
    RCD = "rcd"
    TAMPER = "tamper"
    OVERCURRENT = "overcurrent"
    DIODE = "diode"
    PILOT_ERROR = "pilot_error"
    CABLE = "cable"
    LOCK = "lock"
    METER_OFFLINE = "meter_offline"
    OVERTEMPERATURE = "overtemperature"
    INTERNAL = "internal"


@dataclass(frozen=True)
class FaultReport:
    connector_id: int
    error_code: str
    """An OCPP 1.6 ChargePointErrorCode."""
    pilot_state_f: bool
    """Whether the pilot is held at -12 V so the EV stops drawing (weld, diode)."""
    ends_session: bool = True
    """False where charging resumes by itself once the fault clears (over-temperature)."""
    vendor_error_code: str | None = None
    stopped_reason: str = "Other"
    """Why a transaction it ends stopped, in OCPP 2.0.1's ReasonEnumType (1.6 says Other:
    its Reason has no fault but EmergencyStop)."""


REPORTS: dict[Fault, FaultReport] = {
    Fault.RCD: FaultReport(1, "GroundFailure", False, stopped_reason="GroundFault"),
    Fault.OVERTEMPERATURE: FaultReport(0, "HighTemperature", False, ends_session=False),
    Fault.METER_OFFLINE: FaultReport(1, "PowerMeterFailure", False),
    Fault.CONTACTOR_WELD: FaultReport(1, "PowerSwitchFailure", True),
    Fault.DIODE: FaultReport(1, "EVCommunicationError", True),
    Fault.PILOT_ERROR: FaultReport(1, "EVCommunicationError", False),
    Fault.OVERCURRENT: FaultReport(
        1, "OverCurrentFailure", False, stopped_reason="OvercurrentFault"
    ),
    Fault.CABLE: FaultReport(1, "OtherError", False, vendor_error_code="ProximityOutOfRange"),
    Fault.CONTACTOR_FAILURE: FaultReport(1, "PowerSwitchFailure", False),
    Fault.PHASE_CONTACTOR: FaultReport(
        1, "PowerSwitchFailure", False, vendor_error_code="PhaseContactor"
    ),
    Fault.LOCK: FaultReport(1, "ConnectorLockFailure", False),
    Fault.INTERNAL: FaultReport(0, "InternalError", False),
    Fault.TAMPER: FaultReport(0, "OtherError", False, vendor_error_code="Tamper"),
}
