"""The configuration keys this product has, each declared once with its type and bounds:
OCPP 1.6 Core, Local Auth List, Remote Trigger, Reservation and Smart Charging, the
Security Whitepaper's, plus its own. Both fronts read them through these handles (2.0.1's
device model names them as variables over the same storage).

Defaults that the config file also sets (connection timeout, smart charging limits, the
security settings) come from there; once the CSMS changes a key, the stored value wins.
"""

from __future__ import annotations

from typing import Protocol

from pievse.firmware.csms.configuration_keys import (
    Flag,
    Items,
    KeySpec,
    Number,
    Text,
    valid_phase_rotation,
)
from pievse.firmware.csms.meter_values import MEASURANDS, REGISTER

DAY_S = 86_400
HOUR_S = 3600
FEATURE_PROFILES = (
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "RemoteTrigger",
    "Reservation",
    "SmartCharging",
)
LOCAL_AUTH_LIST_MAX_LENGTH_ITEMS = 10_000
SEND_LOCAL_LIST_MAX_LENGTH_ITEMS = 1_000
MAX_MEASURANDS = len(MEASURANDS)
GET_CONFIGURATION_MAX_KEYS_COUNT = 64

# --- authorization -------------------------------------------------------------------------
ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID = Flag("AllowOfflineTxForUnknownId")
AUTHORIZATION_CACHE_ENABLED = Flag("AuthorizationCacheEnabled")
AUTHORIZE_REMOTE_TX_REQUESTS = Flag("AuthorizeRemoteTxRequests")
LOCAL_AUTH_LIST_ENABLED = Flag("LocalAuthListEnabled")
LOCAL_AUTHORIZE_OFFLINE = Flag("LocalAuthorizeOffline")
LOCAL_PRE_AUTHORIZE = Flag("LocalPreAuthorize")
LOCAL_AUTH_LIST_MAX_LENGTH = Number("LocalAuthListMaxLength", readonly=True)
SEND_LOCAL_LIST_MAX_LENGTH = Number("SendLocalListMaxLength", readonly=True)
MAX_ENERGY_ON_INVALID_ID = Number("MaxEnergyOnInvalidId")
STOP_TRANSACTION_ON_INVALID_ID = Flag("StopTransactionOnInvalidId")
# --- the session ---------------------------------------------------------------------------
CONNECTION_TIME_OUT = Number("ConnectionTimeOut", minimum=1, maximum=HOUR_S)
STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT = Flag("StopTransactionOnEVSideDisconnect")
UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT = Flag("UnlockConnectorOnEVSideDisconnect")
CONNECTOR_PHASE_ROTATION = Text("ConnectorPhaseRotation")
NUMBER_OF_CONNECTORS = Number("NumberOfConnectors", readonly=True)
RESERVE_CONNECTOR_ZERO_SUPPORTED = Flag("ReserveConnectorZeroSupported", readonly=True)
# --- the link and its messages -------------------------------------------------------------
HEARTBEAT_INTERVAL = Number("HeartbeatInterval", maximum=DAY_S)
WEB_SOCKET_PING_INTERVAL = Number("WebSocketPingInterval", maximum=HOUR_S)
MINIMUM_STATUS_DURATION = Number("MinimumStatusDuration", maximum=HOUR_S)
RESET_RETRIES = Number("ResetRetries", maximum=10)
TRANSACTION_MESSAGE_ATTEMPTS = Number("TransactionMessageAttempts", minimum=1, maximum=100)
TRANSACTION_MESSAGE_RETRY_INTERVAL = Number("TransactionMessageRetryInterval", maximum=DAY_S)
GET_CONFIGURATION_MAX_KEYS = Number("GetConfigurationMaxKeys", readonly=True)
SUPPORTED_FEATURE_PROFILES = Items("SupportedFeatureProfiles", readonly=True)
# --- meter values --------------------------------------------------------------------------
CLOCK_ALIGNED_DATA_INTERVAL = Number("ClockAlignedDataInterval", maximum=DAY_S)
METER_VALUE_SAMPLE_INTERVAL = Number("MeterValueSampleInterval", maximum=DAY_S)
METER_VALUES_ALIGNED_DATA = Items("MeterValuesAlignedData", max_items=MAX_MEASURANDS)
METER_VALUES_SAMPLED_DATA = Items("MeterValuesSampledData", max_items=MAX_MEASURANDS)
STOP_TXN_ALIGNED_DATA = Items("StopTxnAlignedData", max_items=MAX_MEASURANDS)
STOP_TXN_SAMPLED_DATA = Items("StopTxnSampledData", max_items=MAX_MEASURANDS)
METER_POLL_INTERVAL = Number("MeterPollInterval", reboot_required=True, minimum=1, maximum=60)
"""Vendor key: the meter task's period is fixed when it starts."""
# --- smart charging: limits the profile store enforces, fixed by the config file -----------
CHARGE_PROFILE_MAX_STACK_LEVEL = Number("ChargeProfileMaxStackLevel", readonly=True)
CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT = Items(
    "ChargingScheduleAllowedChargingRateUnit", readonly=True
)
CHARGING_SCHEDULE_MAX_PERIODS = Number("ChargingScheduleMaxPeriods", readonly=True)
CONNECTOR_SWITCH_3_TO_1_PHASE_SUPPORTED = Flag("ConnectorSwitch3to1PhaseSupported", readonly=True)
MAX_CHARGING_PROFILES_INSTALLED = Number("MaxChargingProfilesInstalled", readonly=True)
# --- Security Whitepaper -------------------------------------------------------------------
ADDITIONAL_ROOT_CERTIFICATE_CHECK = Flag("AdditionalRootCertificateCheck", readonly=True)
AUTHORIZATION_KEY = Text("AuthorizationKey", write_only=True)
CERTIFICATE_SIGNED_MAX_CHAIN_SIZE = Number("CertificateSignedMaxChainSize", readonly=True)
CERTIFICATE_STORE_MAX_LENGTH = Number("CertificateStoreMaxLength", readonly=True)
CPO_NAME = Text("CpoName")
SECURITY_PROFILE = Number("SecurityProfile", maximum=3)


class _Control(Protocol):
    @property
    def connection_timeout_s(self) -> float: ...


class _SmartCharging(Protocol):
    @property
    def max_stack_level(self) -> int: ...

    @property
    def rate_units(self) -> str: ...

    @property
    def max_periods(self) -> int: ...

    @property
    def max_profiles(self) -> int: ...


class _Meter(Protocol):
    @property
    def poll_interval_s(self) -> float: ...


class KeyDefaults(Protocol):
    """The config file's sections the defaults come from."""

    @property
    def control(self) -> _Control: ...

    @property
    def smart_charging(self) -> _SmartCharging: ...

    @property
    def meter(self) -> _Meter: ...


def _measurand_list(key: Items, default: str, measurands: frozenset[str]) -> list[KeySpec]:
    length = Number(f"{key.name}MaxLength", readonly=True)
    return [key.spec(default, items=measurands), length.spec(MAX_MEASURANDS)]


def core_key_specs(
    config: KeyDefaults, measurands: frozenset[str], phase_switching: bool = False
) -> list[KeySpec]:
    """`measurands`: what the board can deliver; a list naming anything else is Rejected.
    `phase_switching`: the board has a phase contactor."""
    smart = config.smart_charging
    return [
        ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID.spec(False),
        AUTHORIZATION_CACHE_ENABLED.spec(True),
        AUTHORIZE_REMOTE_TX_REQUESTS.spec(False),
        CLOCK_ALIGNED_DATA_INTERVAL.spec(0),
        CONNECTION_TIME_OUT.spec(round(config.control.connection_timeout_s)),
        CONNECTOR_PHASE_ROTATION.spec("0.RST,1.RST", check=valid_phase_rotation),
        GET_CONFIGURATION_MAX_KEYS.spec(GET_CONFIGURATION_MAX_KEYS_COUNT),
        HEARTBEAT_INTERVAL.spec(300),
        LOCAL_AUTH_LIST_ENABLED.spec(True),
        LOCAL_AUTH_LIST_MAX_LENGTH.spec(LOCAL_AUTH_LIST_MAX_LENGTH_ITEMS),
        LOCAL_AUTHORIZE_OFFLINE.spec(True),
        LOCAL_PRE_AUTHORIZE.spec(False),
        MAX_ENERGY_ON_INVALID_ID.spec(0),
        *_measurand_list(METER_VALUES_ALIGNED_DATA, REGISTER, measurands),
        *_measurand_list(
            METER_VALUES_SAMPLED_DATA,
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered",
            measurands,
        ),
        METER_VALUE_SAMPLE_INTERVAL.spec(60),
        MINIMUM_STATUS_DURATION.spec(0),
        NUMBER_OF_CONNECTORS.spec(1),
        RESET_RETRIES.spec(3),
        STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT.spec(True),
        STOP_TRANSACTION_ON_INVALID_ID.spec(True),
        *_measurand_list(STOP_TXN_ALIGNED_DATA, "", measurands),
        # The closing register by default (2.0.1's TxEndedMeasurands is this key): an Ended
        # event carries no meterStop, so without it a CSMS left unconfigured gets no energy.
        *_measurand_list(
            STOP_TXN_SAMPLED_DATA, REGISTER if REGISTER in measurands else "", measurands
        ),
        RESERVE_CONNECTOR_ZERO_SUPPORTED.spec(True),
        SEND_LOCAL_LIST_MAX_LENGTH.spec(SEND_LOCAL_LIST_MAX_LENGTH_ITEMS),
        SUPPORTED_FEATURE_PROFILES.spec(",".join(FEATURE_PROFILES)),
        TRANSACTION_MESSAGE_ATTEMPTS.spec(3),
        TRANSACTION_MESSAGE_RETRY_INTERVAL.spec(60),
        UNLOCK_CONNECTOR_ON_EV_SIDE_DISCONNECT.spec(True),
        WEB_SOCKET_PING_INTERVAL.spec(30),
        CHARGE_PROFILE_MAX_STACK_LEVEL.spec(smart.max_stack_level),
        CHARGING_SCHEDULE_ALLOWED_CHARGING_RATE_UNIT.spec(smart.rate_units),
        CHARGING_SCHEDULE_MAX_PERIODS.spec(smart.max_periods),
        CONNECTOR_SWITCH_3_TO_1_PHASE_SUPPORTED.spec(phase_switching),
        MAX_CHARGING_PROFILES_INSTALLED.spec(smart.max_profiles),
        METER_POLL_INTERVAL.spec(max(1, round(config.meter.poll_interval_s))),
    ]
