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

from collections.abc import Callable, Sized

from pievse.firmware.clock import iso_utc
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import (
    ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID,
    AUTHORIZATION_CACHE_ENABLED,
    AUTHORIZE_REMOTE_TX_REQUESTS,
    CHARGE_PROFILE_MAX_STACK_LEVEL,
    CHARGING_SCHEDULE_MAX_PERIODS,
    CLOCK_ALIGNED_DATA_INTERVAL,
    CONNECTION_TIME_OUT,
    CPO_NAME,
    HEARTBEAT_INTERVAL,
    LOCAL_AUTH_LIST_ENABLED,
    LOCAL_AUTHORIZE_OFFLINE,
    LOCAL_PRE_AUTHORIZE,
    MAX_ENERGY_ON_INVALID_ID,
    METER_VALUE_SAMPLE_INTERVAL,
    METER_VALUES_ALIGNED_DATA,
    METER_VALUES_SAMPLED_DATA,
    RESET_RETRIES,
    SEND_LOCAL_LIST_MAX_LENGTH,
    STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT,
    STOP_TRANSACTION_ON_INVALID_ID,
    STOP_TXN_ALIGNED_DATA,
    STOP_TXN_SAMPLED_DATA,
    TRANSACTION_MESSAGE_ATTEMPTS,
    TRANSACTION_MESSAGE_RETRY_INTERVAL,
    UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT,
    WEB_SOCKET_PING_INTERVAL,
)
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


def check_items_per_message(entries: Sized) -> None:
    """A request with more entries than ItemsPerMessage says is refused whole."""
    if len(entries) > ITEMS_PER_MESSAGE:
        raise FrameError(
            "OccurrenceConstraintViolation",
            f"at most {ITEMS_PER_MESSAGE} entries per request (ItemsPerMessage)",
        )


def _key_variables() -> list[Variable]:
    s = "s"
    return [
        key_variable("OCPPCommCtrlr", "HeartbeatInterval", HEARTBEAT_INTERVAL, s),
        key_variable("OCPPCommCtrlr", "WebSocketPingInterval", WEB_SOCKET_PING_INTERVAL, s),
        key_variable(
            "OCPPCommCtrlr",
            "MessageAttempts",
            TRANSACTION_MESSAGE_ATTEMPTS,
            None,
            "TransactionEvent",
        ),
        key_variable(
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            TRANSACTION_MESSAGE_RETRY_INTERVAL,
            s,
            "TransactionEvent",
        ),
        key_variable("OCPPCommCtrlr", "ResetRetries", RESET_RETRIES),
        key_variable(
            "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT
        ),
        key_variable("AuthCtrlr", "AuthorizeRemoteStart", AUTHORIZE_REMOTE_TX_REQUESTS),
        key_variable("AuthCtrlr", "LocalAuthorizeOffline", LOCAL_AUTHORIZE_OFFLINE),
        key_variable("AuthCtrlr", "LocalPreAuthorize", LOCAL_PRE_AUTHORIZE),
        key_variable("AuthCtrlr", "OfflineTxForUnknownIdEnabled", ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID),
        key_variable("AuthCacheCtrlr", "Enabled", AUTHORIZATION_CACHE_ENABLED),
        key_variable("LocalAuthListCtrlr", "Enabled", LOCAL_AUTH_LIST_ENABLED),
        key_variable("LocalAuthListCtrlr", "ItemsPerMessage", SEND_LOCAL_LIST_MAX_LENGTH),
        key_variable("TxCtrlr", "EVConnectionTimeOut", CONNECTION_TIME_OUT, s),
        key_variable("TxCtrlr", "StopTxOnEVSideDisconnect", STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT),
        key_variable("TxCtrlr", "StopTxOnInvalidId", STOP_TRANSACTION_ON_INVALID_ID),
        key_variable("TxCtrlr", "MaxEnergyOnInvalidId", MAX_ENERGY_ON_INVALID_ID, "Wh"),
        key_variable("SampledDataCtrlr", "TxUpdatedInterval", METER_VALUE_SAMPLE_INTERVAL, s),
        key_variable("SampledDataCtrlr", "TxUpdatedMeasurands", METER_VALUES_SAMPLED_DATA),
        key_variable("SampledDataCtrlr", "TxEndedMeasurands", STOP_TXN_SAMPLED_DATA),
        key_variable("AlignedDataCtrlr", "Interval", CLOCK_ALIGNED_DATA_INTERVAL, s),
        key_variable("AlignedDataCtrlr", "Measurands", METER_VALUES_ALIGNED_DATA),
        key_variable("AlignedDataCtrlr", "TxEndedMeasurands", STOP_TXN_ALIGNED_DATA),
        key_variable("SecurityCtrlr", "OrganizationName", CPO_NAME),
        key_variable("SmartChargingCtrlr", "ProfileStackLevel", CHARGE_PROFILE_MAX_STACK_LEVEL),
        key_variable("SmartChargingCtrlr", "PeriodsPerSchedule", CHARGING_SCHEDULE_MAX_PERIODS),
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
        on_unplug = keys.get(STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT)
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
            lambda: str(keys.get(CLOCK_ALIGNED_DATA_INTERVAL)),
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
