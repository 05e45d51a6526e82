"""SampledDataCtrlr.TxStartedMeasurands: what the Started event's Transaction.Begin value
carries. 1.6 has no key of its own for it (its Begin value follows MeterValuesSampledData),
so until a 2.0.1 CSMS sets it, it follows TxUpdatedMeasurands, the same key; once set, it is
kept apart in the store and checked against the same measurands that key accepts."""

from __future__ import annotations

from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import METER_VALUES_SAMPLED_DATA
from pievse.firmware.persistence.store import Store

SETTING = "ocpp201:tx_started_measurands"
FOLLOWED_KEY = METER_VALUES_SAMPLED_DATA


class StartedMeasurands:
    def __init__(self, store: Store, keys: ConfigurationKeys) -> None:
        self._store = store
        self._keys = keys

    def value(self) -> str:
        stored = self._store.get_setting(SETTING)
        return self._keys.value(FOLLOWED_KEY.name) if stored is None else stored

    def items(self) -> list[str]:
        value = self.value()
        return value.split(",") if value else []

    def set(self, value: str) -> str:
        """From SetVariables: Accepted, or Rejected for a measurand the box cannot deliver,
        one listed twice or more than the key allows."""
        spec = self._keys.spec(FOLLOWED_KEY)
        items = [item.strip() for item in value.split(",")] if value.strip() else []
        allowed = spec.items
        if (
            len(items) > spec.max_items
            or len(set(items)) != len(items)
            or any(allowed is not None and item not in allowed for item in items)
        ):
            return "Rejected"
        self._store.set_setting(SETTING, ",".join(items))
        return "Accepted"
