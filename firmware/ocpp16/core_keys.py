"""The configuration keys this product has: OCPP 1.6 Core, Remote Trigger and Smart Charging,
plus its own.

Defaults that the config file also sets (connection timeout) come from there; once the CSMS
changes a key, the stored value wins.
"""

from __future__ import annotations

from pievse.firmware.config import Config
from pievse.firmware.csms.configuration_keys import KeySpec, valid_phase_rotation
from pievse.firmware.csms.meter_values import MEASURANDS, REGISTER

FEATURE_PROFILES = (
    "Core",
    "FirmwareManagement",
    "LocalAuthListManagement",
    "RemoteTrigger",
    "Reservation",
    "SmartCharging",
)
LOCAL_AUTH_LIST_MAX_LENGTH = 10_000
SEND_LOCAL_LIST_MAX_LENGTH = 1_000
MAX_MEASURANDS = len(MEASURANDS)
GET_CONFIGURATION_MAX_KEYS = 64


def core_key_specs(
    config: Config, measurands: frozenset[str], phase_switching: bool = False
) -> list[KeySpec]:
    """`measurands`: what the board can deliver; a list naming anything else is Rejected.
    `phase_switching`: the board has a phase contactor."""

    def measurand_list(name: str, default: str) -> list[KeySpec]:
        return [
            KeySpec(name, "csl", default, items=measurands, max_items=MAX_MEASURANDS),
            KeySpec(f"{name}MaxLength", "int", str(MAX_MEASURANDS), readonly=True),
        ]

    def flag(name: str, default: bool) -> KeySpec:
        return KeySpec(name, "bool", "true" if default else "false")

    def seconds(name: str, default: int, maximum: int, minimum: int = 0) -> KeySpec:
        return KeySpec(name, "int", str(default), minimum=minimum, maximum=maximum)

    return [
        flag("AllowOfflineTxForUnknownId", False),
        flag("AuthorizationCacheEnabled", True),
        flag("AuthorizeRemoteTxRequests", False),
        seconds("ClockAlignedDataInterval", 0, 86_400),
        seconds("ConnectionTimeOut", round(config.control.connection_timeout_s), 3600, minimum=1),
        KeySpec("ConnectorPhaseRotation", "str", "0.RST,1.RST", check=valid_phase_rotation),
        KeySpec("GetConfigurationMaxKeys", "int", str(GET_CONFIGURATION_MAX_KEYS), readonly=True),
        seconds("HeartbeatInterval", 300, 86_400),
        flag("LocalAuthListEnabled", True),
        KeySpec("LocalAuthListMaxLength", "int", str(LOCAL_AUTH_LIST_MAX_LENGTH), readonly=True),
        flag("LocalAuthorizeOffline", True),
        flag("LocalPreAuthorize", False),
        KeySpec("MaxEnergyOnInvalidId", "int", "0"),
        *measurand_list("MeterValuesAlignedData", "Energy.Active.Import.Register"),
        *measurand_list(
            "MeterValuesSampledData",
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered",
        ),
        seconds("MeterValueSampleInterval", 60, 86_400),
        seconds("MinimumStatusDuration", 0, 3600),
        KeySpec("NumberOfConnectors", "int", "1", readonly=True),
        KeySpec("ResetRetries", "int", "3", maximum=10),
        flag("StopTransactionOnEVSideDisconnect", True),
        flag("StopTransactionOnInvalidId", True),
        *measurand_list("StopTxnAlignedData", ""),
        # The closing register by default (2.0.1's TxEndedMeasurands is this key): an Ended
        # event carries no meterStop, so without it a CSMS left unconfigured gets no energy.
        *measurand_list("StopTxnSampledData", REGISTER if REGISTER in measurands else ""),
        KeySpec("ReserveConnectorZeroSupported", "bool", "true", readonly=True),
        KeySpec("SendLocalListMaxLength", "int", str(SEND_LOCAL_LIST_MAX_LENGTH), readonly=True),
        KeySpec("SupportedFeatureProfiles", "csl", ",".join(FEATURE_PROFILES), readonly=True),
        KeySpec("TransactionMessageAttempts", "int", "3", minimum=1, maximum=100),
        seconds("TransactionMessageRetryInterval", 60, 86_400),
        flag("UnlockConnectorOnEVSideDisconnect", True),
        seconds("WebSocketPingInterval", 30, 3600),
        # Smart Charging: limits the profile store enforces, fixed by the config file.
        KeySpec(
            "ChargeProfileMaxStackLevel",
            "int",
            str(config.smart_charging.max_stack_level),
            readonly=True,
        ),
        KeySpec(
            "ChargingScheduleAllowedChargingRateUnit",
            "csl",
            config.smart_charging.rate_units,
            readonly=True,
        ),
        KeySpec(
            "ChargingScheduleMaxPeriods",
            "int",
            str(config.smart_charging.max_periods),
            readonly=True,
        ),
        KeySpec(
            "ConnectorSwitch3to1PhaseSupported",
            "bool",
            "true" if phase_switching else "false",
            readonly=True,
        ),
        KeySpec(
            "MaxChargingProfilesInstalled",
            "int",
            str(config.smart_charging.max_profiles),
            readonly=True,
        ),
        # Vendor key: the meter task's period is fixed when it starts.
        KeySpec(
            "MeterPollInterval",
            "int",
            str(max(1, round(config.meter.poll_interval_s))),
            reboot_required=True,
            minimum=1,
            maximum=60,
        ),
    ]
