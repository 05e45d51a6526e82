"""MonitoringCtrlr's settings (N03, N05): the active monitoring base and level, and which
events wait for the CSMS while it is away (OfflineQueuingSeverity). Severities run from 0
(Danger) to 9 (Debug); a level lets through what is at least as severe."""

from __future__ import annotations

from pievse.firmware.persistence.store import Store

BASES = ("All", "FactoryDefault", "HardWiredOnly")
LOWEST_SEVERITY = 9
DEFAULT_OFFLINE_SEVERITY = 2
"""Danger, hardware and system failures wait for the CSMS; the rest is stale by then."""
LEVEL_SETTING = "ocpp201:monitoring_level"
BASE_SETTING = "ocpp201:monitoring_base"
OFFLINE_SETTING = "ocpp201:offline_queuing_severity"


class MonitoringSettings:
    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def base(self) -> str:
        return self._store.get_setting(BASE_SETTING) or BASES[0]

    @base.setter
    def base(self, base: str) -> None:
        self._store.set_setting(BASE_SETTING, base)

    @property
    def level(self) -> int:
        return int(self._store.get_setting(LEVEL_SETTING) or LOWEST_SEVERITY)

    def set_level(self, severity: int) -> str:
        if not 0 <= severity <= LOWEST_SEVERITY:
            return "Rejected"
        self._store.set_setting(LEVEL_SETTING, str(severity))
        return "Accepted"

    @property
    def offline_severity(self) -> int:
        return int(self._store.get_setting(OFFLINE_SETTING) or DEFAULT_OFFLINE_SEVERITY)

    def set_offline_severity(self, value: str) -> str:
        """OfflineQueuingSeverity from SetVariables: Accepted or Rejected."""
        if not value.isdigit() or int(value) > LOWEST_SEVERITY:
            return "Rejected"
        self._store.set_setting(OFFLINE_SETTING, str(int(value)))
        return "Accepted"
