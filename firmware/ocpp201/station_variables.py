"""The variables a certification lab asks of every component the box reports, beyond the
1.6 keys: capacities with what is stored now (maxLimit), how the box talks and keeps time,
TxStartedMeasurands, and the ChargingStation, EVSE and Connector themselves. Each reads the
box's real state or a fact of its build; none claims a setting the box does not honour."""

from __future__ import annotations

import math
from collections.abc import Callable

from pievse.firmware.csms.configuration_keys import ConfigurationKeys, Number
from pievse.firmware.csms.key_table import (
    CERTIFICATE_STORE_MAX_LENGTH,
    CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT,
    LOCAL_AUTH_LIST_MAX_LENGTH,
    MAX_CHARGING_PROFILES_INSTALLED,
    METER_VALUE_SAMPLE_INTERVAL,
    METER_VALUES_SAMPLED_DATA,
)
from pievse.firmware.ocpp201.box_facts import BoxFacts
from pievse.firmware.ocpp201.device_model import Place, Variable, owned_variable, read_variable
from pievse.firmware.ocpp201.status_notifications import CONNECTOR_ID, EVSE_ID
from pievse.firmware.rpc.frames import MAX_FRAME_BYTES

TIME_SOURCE = "Heartbeat"
"""The box sets its clock from the CSMS's currentTime (BootNotification, Heartbeat); it has
no NTP, GPS or real-time clock of its own it could be told to prefer."""
OFFLINE_THRESHOLD_S = 0
"""After every reconnect, however short the outage, every connector's status goes out again
(`StatusReporter.resync`): the box behaves as with a threshold of 0."""
RATE_UNITS = {"Current": "A", "Power": "W"}
"""ChargingScheduleAllowedChargingRateUnit's 1.6 names -> RateUnit's 2.0.1 ones."""
FILE_TRANSFER_PROTOCOLS = "FTP,FTPS,HTTP,HTTPS,SFTP"


def _capacity_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    """What is stored now, its capacity in maxLimit."""

    def count(read: Callable[[], int]) -> Callable[[], str]:
        return lambda: str(read())

    def capacity(key: Number) -> Callable[[], float]:
        return lambda: keys.get(key)

    entries = Variable(
        Place("SmartChargingCtrlr"),
        "Entries",
        read=count(facts.installed_profiles),
        data_type="integer",
        instance="ChargingProfiles",
        max_limit=capacity(MAX_CHARGING_PROFILES_INSTALLED),
    )
    return [
        read_variable(
            Place("LocalAuthListCtrlr"),
            "Entries",
            count(facts.local_list_entries),
            "integer",
            max_limit=capacity(LOCAL_AUTH_LIST_MAX_LENGTH),
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
            max_limit=capacity(CERTIFICATE_STORE_MAX_LENGTH),
        ),
    ]


def _communication_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    """How the box talks and keeps time: read from what it does, none of it settable."""
    comm = Place("OCPPCommCtrlr")
    first_s, longest_s = facts.reconnect_s
    rate_units = ",".join(
        RATE_UNITS[unit] for unit in keys.get(CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT)
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
            ",".join(sorted(keys.spec(METER_VALUES_SAMPLED_DATA).items or ())),
        ),
        read_variable(
            Place("SampledDataCtrlr"),
            "TxEndedInterval",
            lambda: str(keys.get(METER_VALUE_SAMPLE_INTERVAL)),
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


def station_variables(keys: ConfigurationKeys, facts: BoxFacts) -> list[Variable]:
    return [
        *_sampled_data_variables(keys, facts),
        *_capacity_variables(keys, facts),
        *_communication_variables(keys, facts),
        *_place_variables(facts),
    ]
