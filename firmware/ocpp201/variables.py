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

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pievse.firmware.clock import iso_utc
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.network_profiles import SLOTS, NetworkProfiles
from pievse.firmware.ocpp201.device_model import (
    Place,
    Variable,
    key_variable,
    owned_variable,
    read_variable,
)
from pievse.firmware.ocpp201.external_limits import ExternalLimits
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.started_measurands import StartedMeasurands
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID
from pievse.firmware.rpc.frames import MAX_FRAME_BYTES, FrameError

ITEMS_PER_MESSAGE = 32
"""GetVariables/SetVariables entries per request, and NotifyReport entries per page."""
BYTES_PER_MESSAGE = 65_000
TX_START_POINT = "PowerPathClosed"
"""A transaction begins when the EV is plugged in and authorized, as a 1.6 one does."""
TIME_SOURCE = "Heartbeat"
"""The box sets its clock from the CSMS's currentTime (BootNotification, Heartbeat); it has
no NTP, GPS or real-time clock of its own it could be told to prefer."""
OFFLINE_THRESHOLD_S = 0
"""After every reconnect, however short the outage, every connector's status goes out again
(`StatusReporter.resync`): the box behaves as with a threshold of 0."""
RATE_UNITS = {"Current": "A", "Power": "W"}
"""ChargingScheduleAllowedChargingRateUnit's 1.6 names -> RateUnit's 2.0.1 ones."""
FILE_TRANSFER_PROTOCOLS = "FTP,FTPS,HTTP,HTTPS,SFTP"
MEASURANDS = (
    "Current.Export,Current.Import,Current.Offered,Energy.Active.Export.Register,"
    "Energy.Active.Import.Register,Energy.Reactive.Export.Register,"
    "Energy.Reactive.Import.Register,Energy.Active.Export.Interval,"
    "Energy.Active.Import.Interval,Energy.Reactive.Export.Interval,"
    "Energy.Reactive.Import.Interval,Frequency,Power.Active.Export,Power.Active.Import,"
    "Power.Factor,Power.Offered,Power.Reactive.Export,Power.Reactive.Import,SoC,Voltage"
)


def check_items_per_message(entries: list[object]) -> None:
    """A request with more entries than ItemsPerMessage says is refused whole."""
    if len(entries) > ITEMS_PER_MESSAGE:
        raise FrameError(
            "OccurrenceConstraintViolation",
            f"at most {ITEMS_PER_MESSAGE} entries per request (ItemsPerMessage)",
        )


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


def _capacity_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    """What is stored now, its capacity in maxLimit."""

    def count(read: Callable[[], int]) -> Callable[[], str]:
        return lambda: str(read())

    def capacity(key: str) -> Callable[[], float]:
        return lambda: keys.number(key)

    entries = Variable(
        Place("SmartChargingCtrlr"),
        "Entries",
        read=count(facts.installed_profiles),
        data_type="integer",
        instance="ChargingProfiles",
        max_limit=capacity("MaxChargingProfilesInstalled"),
    )
    return [
        read_variable(
            Place("LocalAuthListCtrlr"),
            "Entries",
            count(facts.local_list_entries),
            "integer",
            max_limit=capacity("LocalAuthListMaxLength"),
        ),
        read_variable(
            Place("LocalAuthListCtrlr"),
            "BytesPerMessage",
            lambda: str(MAX_FRAME_BYTES),
            "integer",
        ),
        entries,
        read_variable(
            Place("SecurityCtrlr"),
            "CertificateEntries",
            count(facts.installed_certificates),
            "integer",
            max_limit=capacity("CertificateStoreMaxLength"),
        ),
    ]


def _communication_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    """How the box talks and keeps time: read from what it does, none of it settable."""
    comm = Place("OCPPCommCtrlr")
    first_s, longest_s = facts.reconnect_s
    rate_units = ",".join(
        RATE_UNITS[unit] for unit in keys.items("ChargingScheduleAllowedChargingRateUnit")
    )
    return [
        read_variable(
            comm,
            "FileTransferProtocols",
            lambda: facts.file_transfer_protocols,
            "MemberList",
            values_list=FILE_TRANSFER_PROTOCOLS,
        ),
        read_variable(comm, "OfflineThreshold", lambda: str(OFFLINE_THRESHOLD_S), "integer", "s"),
        read_variable(comm, "RetryBackOffWaitMinimum", lambda: str(round(first_s)), "integer", "s"),
        read_variable(
            comm,
            "RetryBackOffRepeatTimes",
            lambda: str(max(0, math.ceil(math.log2(longest_s / first_s)))),
            "integer",
        ),
        read_variable(
            comm,
            "RetryBackOffRandomRange",
            lambda: str(round(longest_s - first_s / 2)),
            "integer",
            "s",
        ),
        read_variable(
            Place("ClockCtrlr"),
            "TimeSource",
            lambda: TIME_SOURCE,
            "SequenceList",
            values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
        ),
        read_variable(
            Place("SmartChargingCtrlr"),
            "RateUnit",
            lambda: rate_units,
            "MemberList",
            values_list="A,W",
        ),
    ]


def _sampled_data_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    return [
        owned_variable(
            Place("SampledDataCtrlr"),
            "TxStartedMeasurands",
            facts.started_measurands.value,
            facts.started_measurands.set,
            "MemberList",
            ",".join(sorted(keys.spec("MeterValuesSampledData").items or ())),
        ),
        read_variable(
            Place("SampledDataCtrlr"),
            "TxEndedInterval",
            lambda: keys.value("MeterValueSampleInterval"),
            "integer",
        ),
    ]


def _place_variables(facts: BoxFacts) -> list[Variable]:
    """ChargingStation, EVSE and Connector: every one of them is there and working
    (Available), on the board's phases."""
    station = Place("ChargingStation")
    evse = Place("EVSE", evse=EVSE_ID)
    connector = Place("Connector", evse=EVSE_ID, connector=CONNECTOR_ID)

    def power() -> str:
        watts = facts.power_w()
        return "" if watts is None else f"{watts:.1f}"

    return [
        *(
            read_variable(place, "Available", lambda: "true", "boolean")
            for place in (station, evse, connector)
        ),
        read_variable(connector, "SupplyPhases", lambda: str(facts.phases), "integer"),
        read_variable(
            evse,
            "Power",
            power,
            "decimal",
            "W",
            monitorable=True,
            max_limit=lambda: facts.rated_power_w,
        ),
    ]


def _monitoring_variables(settings: MonitoringSettings) -> list[Variable]:
    monitoring = Place("MonitoringCtrlr")
    return [
        read_variable(monitoring, "Enabled", lambda: "true", "boolean"),
        read_variable(monitoring, "ActiveMonitoringBase", lambda: settings.base, "OptionList"),
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


def variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    def stop_point() -> str:
        on_unplug = keys.flag("StopTransactionOnEVSideDisconnect")
        return "EVConnected,Authorized" if on_unplug else "Authorized"

    def station_state() -> str:
        return "Available" if facts.station_operative() else "Unavailable"

    def fixed(value: object) -> Callable[[], str]:
        return lambda: str(value)

    station = Place("ChargingStation")
    evse = Place("EVSE", evse=EVSE_ID)
    connector = Place("Connector", evse=EVSE_ID, connector=CONNECTOR_ID)
    per_message = [
        Variable(Place(component), name, read=fixed(limit), data_type="integer", instance=request)
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

    def problem(place: str) -> Callable[[], str]:
        return lambda: "true" if facts.problems()[place] else "false"

    def availability(place: Place, read: Callable[[], str]) -> Variable:
        return read_variable(place, "AvailabilityState", read, "OptionList", monitorable=True)

    return [
        *_key_variables(),
        *_network_variables(facts),
        *_monitoring_variables(facts.monitoring),
        *per_message,
        read_variable(Place("SecurityCtrlr"), "Identity", fixed(facts.charge_point_id)),
        read_variable(Place("AuthCtrlr"), "Enabled", fixed("true"), "boolean"),
        read_variable(Place("TxCtrlr"), "TxStartPoint", fixed(TX_START_POINT), "MemberList"),
        read_variable(Place("TxCtrlr"), "TxStopPoint", stop_point, "MemberList"),
        *_sampled_data_variables(keys, facts),
        *_capacity_variables(keys, facts),
        *_communication_variables(keys, facts),
        *_place_variables(facts),
        read_variable(
            Place("AlignedDataCtrlr"),
            "TxEndedInterval",
            lambda: keys.value("ClockAlignedDataInterval"),
            "integer",
        ),
        read_variable(Place("SampledDataCtrlr"), "Enabled", fixed("true"), "boolean"),
        read_variable(Place("AlignedDataCtrlr"), "Enabled", fixed("true"), "boolean"),
        read_variable(Place("ReservationCtrlr"), "Enabled", fixed("true"), "boolean"),
        read_variable(Place("SmartChargingCtrlr"), "Enabled", fixed("true"), "boolean"),
        owned_variable(
            Place("SmartChargingCtrlr"),
            "LimitChangeSignificance",
            lambda: str(facts.external_limits.significance_pct),
            facts.external_limits.set_significance,
            "integer",
        ),
        read_variable(Place("ClockCtrlr"), "DateTime", lambda: iso_utc(facts.now()), "dateTime"),
        availability(station, station_state),
        read_variable(station, "SupplyPhases", fixed(facts.phases), "integer"),
        read_variable(station, "Problem", problem("station"), "boolean", monitorable=True),
        availability(evse, facts.availability),
        read_variable(evse, "SupplyPhases", fixed(facts.phases), "integer"),
        availability(connector, facts.availability),
        read_variable(connector, "ConnectorType", fixed("cType2"), "OptionList"),
        read_variable(connector, "Problem", problem("connector"), "boolean", monitorable=True),
    ]
