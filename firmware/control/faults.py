"""The fault table: what each fault is, where it is reported and with which error code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pievse.firmware.session.stop_reasons import StopReason


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


class ErrorCode(StrEnum):
    """What is wrong at a connector, in the domain's words (the names are 1.6's
    ChargePointErrorCode, which each front maps to its wire)."""

    NO_ERROR = "NoError"
    GROUND_FAILURE = "GroundFailure"
    HIGH_TEMPERATURE = "HighTemperature"
    POWER_METER_FAILURE = "PowerMeterFailure"
    POWER_SWITCH_FAILURE = "PowerSwitchFailure"
    EV_COMMUNICATION_ERROR = "EVCommunicationError"
    OVER_CURRENT_FAILURE = "OverCurrentFailure"
    CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure"
    READER_FAILURE = "ReaderFailure"
    INTERNAL_ERROR = "InternalError"
    OTHER_ERROR = "OtherError"


@dataclass(frozen=True)
class FaultReport:
    connector_id: int
    error_code: ErrorCode
    pilot_state_f: bool
    """Whether the pilot is held at -12 V so the EV stops drawing (weld, diode)."""
    ends_session: bool = True
    """False where charging resumes by itself once the fault clears (over-temperature)."""
    vendor_error_code: str | None = None
    stop_reason: StopReason = StopReason.OTHER
    """Why a transaction it ends stopped, in the domain's words; each front says it in its
    version's (2.0.1 has a word for a ground fault and an overcurrent, 1.6 says Other: its
    Reason has no fault but EmergencyStop)."""


REPORTS: dict[Fault, FaultReport] = {
    Fault.RCD: FaultReport(1, ErrorCode.GROUND_FAILURE, False, stop_reason=StopReason.GROUND_FAULT),
    Fault.OVERTEMPERATURE: FaultReport(0, ErrorCode.HIGH_TEMPERATURE, False, ends_session=False),
    Fault.METER_OFFLINE: FaultReport(1, ErrorCode.POWER_METER_FAILURE, False),
    Fault.CONTACTOR_WELD: FaultReport(1, ErrorCode.POWER_SWITCH_FAILURE, True),
    Fault.DIODE: FaultReport(1, ErrorCode.EV_COMMUNICATION_ERROR, True),
    Fault.PILOT_ERROR: FaultReport(1, ErrorCode.EV_COMMUNICATION_ERROR, False),
    Fault.OVERCURRENT: FaultReport(
        1, ErrorCode.OVER_CURRENT_FAILURE, False, stop_reason=StopReason.OVERCURRENT
    ),
    Fault.CABLE: FaultReport(
        1, ErrorCode.OTHER_ERROR, False, vendor_error_code="ProximityOutOfRange"
    ),
    Fault.CONTACTOR_FAILURE: FaultReport(1, ErrorCode.POWER_SWITCH_FAILURE, False),
    Fault.PHASE_CONTACTOR: FaultReport(
        1, ErrorCode.POWER_SWITCH_FAILURE, False, vendor_error_code="PhaseContactor"
    ),
    Fault.LOCK: FaultReport(1, ErrorCode.CONNECTOR_LOCK_FAILURE, False),
    Fault.INTERNAL: FaultReport(0, ErrorCode.INTERNAL_ERROR, False),
    Fault.TAMPER: FaultReport(0, ErrorCode.OTHER_ERROR, False, vendor_error_code="Tamper"),
}
