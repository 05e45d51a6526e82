"""Connector status in the domain's words (1.6's names, which each front maps to its wire),
derived from what the control loop knows.

A pure function of a snapshot, so every transition of the standard's status table can be
tested without hardware.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pievse.firmware.control.faults import REPORTS, ErrorCode, Fault
from pievse.hal.interfaces import PilotState


@dataclass(frozen=True)
class StatusInputs:
    pilot_state: PilotState
    in_session: bool
    finishing: bool
    pwm_active: bool
    contactor_closed: bool
    faults: frozenset[Fault]
    meter_flagged: bool
    """The meter failed but policy lets charging continue: report, do not fault."""
    awaiting_ev: bool = False
    """A tag was authorized (or a remote start accepted) and the EV is not plugged in yet."""
    reserved: bool = False
    """A reservation holds the connector for one driver."""
    reader_failed: bool = False
    """The tag reader fails: remote starts still work, so the box is not Faulted."""
    box_operative: bool = True
    connector_operative: bool = True
    degraded: str | None = None
    """A limit source in its failsafe (a stale grid reading): its vendor error code."""


class ConnectorState(StrEnum):
    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


@dataclass(frozen=True)
class ConnectorStatus:
    status: ConnectorState
    error_code: ErrorCode = ErrorCode.NO_ERROR
    vendor_error_code: str | None = None


def _worst(faults: frozenset[Fault], connector_id: int) -> Fault | None:
    # Declaration order of Fault is the order of severity.
    for fault in Fault:
        if fault in faults and REPORTS[fault].connector_id == connector_id:
            return fault
    return None


def box_status(inputs: StatusInputs) -> ConnectorStatus:
    fault = _worst(inputs.faults, 0)
    if fault is not None:
        report = REPORTS[fault]
        return ConnectorStatus(ConnectorState.FAULTED, report.error_code, report.vendor_error_code)
    status = ConnectorState.AVAILABLE if inputs.box_operative else ConnectorState.UNAVAILABLE
    return ConnectorStatus(
        status, ErrorCode.READER_FAILURE if inputs.reader_failed else ErrorCode.NO_ERROR
    )


def connector_status(inputs: StatusInputs) -> ConnectorStatus:
    fault = _worst(inputs.faults, 1)
    if fault is not None:
        report = REPORTS[fault]
        return ConnectorStatus(ConnectorState.FAULTED, report.error_code, report.vendor_error_code)
    status = _plain_status(inputs)
    if inputs.meter_flagged:
        return ConnectorStatus(status, ErrorCode.POWER_METER_FAILURE)
    if inputs.degraded is not None:
        return ConnectorStatus(status, ErrorCode.OTHER_ERROR, inputs.degraded)
    return ConnectorStatus(status)


def _plain_status(inputs: StatusInputs) -> ConnectorState:
    if not inputs.in_session and not (inputs.box_operative and inputs.connector_operative):
        return ConnectorState.UNAVAILABLE
    if inputs.pilot_state == PilotState.A:
        # The transaction may outlive an unplugged EV (StopTransactionOnEVSideDisconnect).
        if inputs.in_session:
            return ConnectorState.SUSPENDED_EV
        if inputs.awaiting_ev:
            return ConnectorState.PREPARING
        return ConnectorState.RESERVED if inputs.reserved else ConnectorState.AVAILABLE
    if inputs.finishing:
        return ConnectorState.FINISHING
    if not inputs.in_session:
        return ConnectorState.PREPARING
    if not inputs.pwm_active:
        return ConnectorState.SUSPENDED_EVSE
    if inputs.contactor_closed and inputs.pilot_state in (PilotState.C, PilotState.D):
        return ConnectorState.CHARGING
    return ConnectorState.SUSPENDED_EV
