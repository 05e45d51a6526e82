"""The box's 2.0.1 variables: each controller's, with the 1.6 key it shares storage with.

Where 2.0.1 has two variables for what 1.6 keeps as one (TxStartedMeasurands and
TxUpdatedMeasurands are both MeterValuesSampledData, since the box's Transaction.Begin value
is a sampled one; TxEndedInterval follows the sample and aligned intervals), the second is
read-only and says what the box does.

SecurityCtrlr.SecurityProfile is read-only on 2.0.1: the profile of the network connection
profile in use, changed by SetNetworkProfile, NetworkConfigurationPriority and a reset
(A05), not by SetVariables as 1.6's key is.
"""

from __future__ import annotations

from collections.abc import Callable

from pievse.firmware.clock import iso_utc
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.ocpp201.box_facts import BoxFacts
from pievse.firmware.ocpp201.device_model import (
    Place,
    Variable,
    key_variable,
    owned_variable,
    read_variable,
)
from pievse.firmware.ocpp201.monitoring_settings import BASES, MonitoringSettings
from pievse.firmware.ocpp201.network_profiles import SLOTS
from pievse.firmware.ocpp201.station_variables import station_variables
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID
from pievse.firmware.rpc.frames import FrameError

ITEMS_PER_MESSAGE = 32
"""GetVariables/SetVariables entries per request, and NotifyReport entries per page."""
BYTES_PER_MESSAGE = 65_000
AVAILABILITY_STATES = "Available,Occupied,Reserved,Unavailable,Faulted"
CONNECTOR_TYPE = "cType2"
TX_START_POINT = "PowerPathClosed"
"""A transaction begins when the EV is plugged in and authorized, as a 1.6 one does."""


def check_items_per_message(entries: list[object]) -> None:
    """A request with more entries than ItemsPerMessage says is refused whole."""
    if len(entries) > ITEMS_PER_MESSAGE:
        raise FrameError(
            "OccurrenceConstraintViolation",
            f"at most {ITEMS_PER_MESSAGE} entries per request (ItemsPerMessage)",
        )


def _key_variables() -> list[Variable]:
    s = "s"
    return [
        key_variable("OCPPCommCtrlr", "HeartbeatInterval", "HeartbeatInterval", s),
        key_variable("OCPPCommCtrlr", "WebSocketPingInterval", "WebSocketPingInterval", s),
        key_variable(
            "OCPPCommCtrlr",
            "MessageAttempts",
            "TransactionMessageAttempts",
            None,
            "TransactionEvent",
        ),
        key_variable(
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            "TransactionMessageRetryInterval",
            s,
            "TransactionEvent",
        ),
        key_variable("OCPPCommCtrlr", "ResetRetries", "ResetRetries"),
        key_variable(
            "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "UnlockConnectorOnEVSideDisconnect"
        ),
        key_variable("AuthCtrlr", "AuthorizeRemoteStart", "AuthorizeRemoteTxRequests"),
        key_variable("AuthCtrlr", "LocalAuthorizeOffline", "LocalAuthorizeOffline"),
        key_variable("AuthCtrlr", "LocalPreAuthorize", "LocalPreAuthorize"),
        key_variable("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "AllowOfflineTxForUnknownId"),
        key_variable("AuthCacheCtrlr", "Enabled", "AuthorizationCacheEnabled"),
        key_variable("LocalAuthListCtrlr", "Enabled", "LocalAuthListEnabled"),
        key_variable("LocalAuthListCtrlr", "ItemsPerMessage", "SendLocalListMaxLength"),
        key_variable("TxCtrlr", "EVConnectionTimeOut", "ConnectionTimeOut", s),
        key_variable("TxCtrlr", "StopTxOnEVSideDisconnect", "StopTransactionOnEVSideDisconnect"),
        key_variable("TxCtrlr", "StopTxOnInvalidId", "StopTransactionOnInvalidId"),
        key_variable("TxCtrlr", "MaxEnergyOnInvalidId", "MaxEnergyOnInvalidId", "Wh"),
        key_variable("SampledDataCtrlr", "TxUpdatedInterval", "MeterValueSampleInterval", s),
        key_variable("SampledDataCtrlr", "TxUpdatedMeasurands", "MeterValuesSampledData"),
        key_variable("SampledDataCtrlr", "TxEndedMeasurands", "StopTxnSampledData"),
        key_variable("AlignedDataCtrlr", "Interval", "ClockAlignedDataInterval", s),
        key_variable("AlignedDataCtrlr", "Measurands", "MeterValuesAlignedData"),
        key_variable("AlignedDataCtrlr", "TxEndedMeasurands", "StopTxnAlignedData"),
        key_variable("SecurityCtrlr", "OrganizationName", "CpoName"),
        key_variable("SmartChargingCtrlr", "ProfileStackLevel", "ChargeProfileMaxStackLevel"),
        key_variable("SmartChargingCtrlr", "PeriodsPerSchedule", "ChargingScheduleMaxPeriods"),
    ]


def _monitoring_variables(settings: MonitoringSettings) -> list[Variable]:
    monitoring = Place("MonitoringCtrlr")
    return [
        read_variable(monitoring, "Enabled", lambda: "true", "boolean"),
        read_variable(
            monitoring,
            "ActiveMonitoringBase",
            lambda: settings.base,
            "OptionList",
            values_list=",".join(BASES),
        ),
        read_variable(monitoring, "ActiveMonitoringLevel", lambda: str(settings.level), "integer"),
        owned_variable(
            monitoring,
            "OfflineQueuingSeverity",
            lambda: str(settings.offline_severity),
            settings.set_offline_severity,
            "integer",
        ),
    ]


def _network_variables(facts: BoxFacts) -> list[Variable]:
    network = facts.network
    comm = Place("OCPPCommCtrlr")
    return [
        owned_variable(
            comm,
            "NetworkConfigurationPriority",
            lambda: ",".join(map(str, network.priority())),
            network.set_priority,
            "SequenceList",
            ",".join(map(str, SLOTS)),
        ),
        owned_variable(
            comm,
            "NetworkProfileConnectionAttempts",
            lambda: str(network.attempts()),
            network.set_attempts,
            "integer",
        ),
        Variable(
            comm,
            "MessageTimeout",
            read=lambda: str(round(network.current()[1].message_timeout_s)),
            data_type="integer",
            unit="s",
            instance="Default",
        ),
        read_variable(
            Place("SecurityCtrlr"),
            "SecurityProfile",
            lambda: str(facts.security_profile()),
            "integer",
        ),
    ]


def _fixed(value: object) -> Callable[[], str]:
    return lambda: str(value)


def _per_message_variables() -> list[Variable]:
    return [
        Variable(Place(component), name, read=_fixed(limit), data_type="integer", instance=request)
        for component, requests in (
            ("DeviceDataCtrlr", ("GetReport", "GetVariables", "SetVariables")),
            ("MonitoringCtrlr", ("SetVariableMonitoring", "ClearVariableMonitoring")),
        )
        for request in requests
        for name, limit in (
            ("ItemsPerMessage", ITEMS_PER_MESSAGE),
            ("BytesPerMessage", BYTES_PER_MESSAGE),
        )
    ]


def _state_variables(facts: BoxFacts) -> list[Variable]:
    """The station's, the EVSE's and the connector's state as the control loop has it."""
    station = Place("ChargingStation")
    evse = Place("EVSE", evse=EVSE_ID)
    connector = Place("Connector", evse=EVSE_ID, connector=CONNECTOR_ID)

    def station_state() -> str:
        return "Available" if facts.station_operative() else "Unavailable"

    def problem(place: str) -> Callable[[], str]:
        return lambda: "true" if facts.problems()[place] else "false"

    def availability(place: Place, read: Callable[[], str]) -> Variable:
        return read_variable(
            place,
            "AvailabilityState",
            read,
            "OptionList",
            monitorable=True,
            values_list=AVAILABILITY_STATES,
        )

    return [
        availability(station, station_state),
        read_variable(station, "SupplyPhases", _fixed(facts.phases), "integer"),
        read_variable(station, "Problem", problem("station"), "boolean", monitorable=True),
        availability(evse, facts.availability),
        read_variable(evse, "SupplyPhases", _fixed(facts.phases), "integer"),
        availability(connector, facts.availability),
        read_variable(
            connector,
            "ConnectorType",
            _fixed(CONNECTOR_TYPE),
            "OptionList",
            values_list=CONNECTOR_TYPE,
        ),
        read_variable(connector, "Problem", problem("connector"), "boolean", monitorable=True),
    ]


def variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    def stop_point() -> str:
        on_unplug = keys.flag("StopTransactionOnEVSideDisconnect")
        return "EVConnected,Authorized" if on_unplug else "Authorized"

    fixed = _fixed
    return [
        *_key_variables(),
        *_network_variables(facts),
        *_monitoring_variables(facts.monitoring),
        *_per_message_variables(),
        read_variable(Place("SecurityCtrlr"), "Identity", fixed(facts.charge_point_id)),
        read_variable(Place("AuthCtrlr"), "Enabled", fixed("true"), "boolean"),
        read_variable(
            Place("TxCtrlr"),
            "TxStartPoint",
            fixed(TX_START_POINT),
            "MemberList",
            values_list=TX_START_POINT,
        ),
        read_variable(
            Place("TxCtrlr"),
            "TxStopPoint",
            stop_point,
            "MemberList",
            values_list="EVConnected,Authorized",
        ),
        *station_variables(keys, facts),
        read_variable(
            Place("AlignedDataCtrlr"),
            "TxEndedInterval",
            lambda: keys.value("ClockAlignedDataInterval"),
            "integer",
        ),
        *(
            read_variable(Place(component), "Enabled", fixed("true"), "boolean")
            for component in (
                "SampledDataCtrlr",
                "AlignedDataCtrlr",
                "ReservationCtrlr",
                "SmartChargingCtrlr",
            )
        ),
        owned_variable(
            Place("SmartChargingCtrlr"),
            "LimitChangeSignificance",
            lambda: str(facts.external_limits.significance_pct),
            facts.external_limits.set_significance,
            "integer",
        ),
        read_variable(Place("ClockCtrlr"), "DateTime", lambda: iso_utc(facts.now()), "dateTime"),
        *_state_variables(facts),
    ]
