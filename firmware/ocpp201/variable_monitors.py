"""The box's variable monitors (2.0.1 N02-N06, N07/N08 for what they raise): the CSMS's custom
monitors, persisted, run against the device model after every control step, and the two
hard-wired ones the fault table stands for.

Only variables the box measures or decides can be monitored (`Variable.monitorable`): the
EVSE's power, the availability states, the Problem variables. The hard-wired Problem
monitors report through `ProblemEvents`; they cannot be cleared, and a fault reaches the CSMS
whatever the monitoring level, because the CSMS must learn why a box stopped charging. A
custom monitor's event goes out if its severity is within ActiveMonitoringLevel; offline it
is kept for later only when its severity is within OfflineQueuingSeverity.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.device_model import DeviceModel, Variable
from pievse.firmware.ocpp201.event_ids import EventIds
from pievse.firmware.ocpp201.monitor_rules import MONITOR_TYPES, THRESHOLDS, Rule, Seen, judge
from pievse.firmware.ocpp201.monitoring_settings import (
    BASES,
    LOWEST_SEVERITY,
    MonitoringSettings,
)
from pievse.firmware.ocpp201.problem_events import PLACES
from pievse.firmware.persistence.store import Store

log = logging.getLogger(__name__)
MAX_CUSTOM_MONITORS = 32
MONITORS_SETTING = "ocpp201:monitors"
CRITERIA = {
    "ThresholdMonitoring": THRESHOLDS,
    "DeltaMonitoring": ("Delta",),
    "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
}


@dataclass(frozen=True)
class Monitor:
    id: int
    component: dict[str, Any]
    variable: dict[str, Any]
    """Both in wire form (camelCase)."""
    type: str
    value: float
    severity: int
    transaction: bool = False

    def wire(self) -> dict[str, Any]:
        """One variableMonitoring entry of NotifyMonitoringReport."""
        return {
            "id": self.id,
            "transaction": self.transaction,
            "value": self.value,
            "type": self.type,
            "severity": self.severity,
        }


@dataclass
class Watch:
    """A custom monitor, the variable it reads and what it saw last."""

    monitor: Monitor
    variable: Variable
    seen: Seen


HARD_WIRED = tuple(
    Monitor(number, PLACES[place], {"name": "Problem"}, "Delta", 1, 1)
    for number, place in ((1, "station"), (2, "connector"))
)
"""Severity 1, HardwareFailure: the fault table's trips."""
FIRST_CUSTOM_ID = len(HARD_WIRED) + 1


def _variable_wire(variable: Variable) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": variable.name}
    if variable.instance is not None:
        wire["instance"] = variable.instance
    return wire


class VariableMonitors:
    def __init__(
        self,
        model: DeviceModel,
        store: Store,
        settings: MonitoringSettings,
        outbox: Outbox,
        clock: Clock,
        event_ids: EventIds,
        transaction_id: Callable[[], str | None],
    ) -> None:
        self._model = model
        self._store = store
        self._settings = settings
        self._outbox = outbox
        self._clock = clock
        self._event_ids = event_ids
        self._transaction_id = transaction_id
        self._custom: dict[int, Watch] = {}
        for stored in json.loads(store.get_setting(MONITORS_SETTING) or "[]"):
            monitor = Monitor(**stored)
            found = model.find(monitor.component, monitor.variable)
            if isinstance(found, Variable):
                self._add(monitor, found)

    # --- what the CSMS sets --------------------------------------------------------------

    def set(self, data: Mapping[str, Any]) -> tuple[str, int | None]:
        """One SetVariableMonitoring entry: (status, the monitor's id)."""
        found = self._model.find(data["component"], data["variable"])
        asked_id = data.get("id")
        if isinstance(found, str):
            return found, asked_id
        kind, value, severity = data["type"], float(data["value"]), int(data["severity"])
        if kind not in MONITOR_TYPES:
            return "UnsupportedMonitorType", asked_id
        numeric = found.data_type in ("decimal", "integer")
        usable = found.monitorable and (numeric or kind not in THRESHOLDS)
        sensible = value > 0 if kind == "Periodic" or (kind == "Delta" and numeric) else True
        if not usable or not sensible or not 0 <= severity <= LOWEST_SEVERITY:
            return "Rejected", asked_id
        if asked_id is not None and asked_id not in self._custom:
            return "Rejected", asked_id
        monitor = Monitor(
            asked_id if asked_id is not None else self._next_id(),
            found.place.wire(),
            _variable_wire(found),
            kind,
            value,
            severity,
            bool(data.get("transaction", False)),
        )
        same = [m for m in self._all() if _same_watch(m, monitor) and m.id != monitor.id]
        if same:
            return "Duplicate", asked_id
        if asked_id is None and len(self._custom) >= MAX_CUSTOM_MONITORS:
            return "Rejected", None
        self._add(monitor, found)
        self._save()
        return "Accepted", monitor.id

    def clear(self, monitor_id: int) -> str:
        if any(m.id == monitor_id for m in HARD_WIRED):
            return "Rejected"
        if self._custom.pop(monitor_id, None) is None:
            return "NotFound"
        self._save()
        return "Accepted"

    def set_base(self, base: str) -> str:
        """All keeps the custom monitors; FactoryDefault and HardWiredOnly leave the
        hard-wired ones only (the box has no preconfigured monitors besides)."""
        if base not in BASES:
            return "Rejected"
        if base != "All":
            self._custom.clear()
            self._save()
        self._settings.base = base
        return "Accepted"

    def matching(
        self, criteria: list[str] | None, wanted: Sequence[Mapping[str, Any]] | None
    ) -> list[Monitor]:
        """GetMonitoringReport's selection: by kind of monitor, and by component (and
        variable, where one is named)."""
        kinds = {kind for c in criteria for kind in CRITERIA.get(c, ())} if criteria else None
        chosen = []
        for monitor in self._all():
            if kinds is not None and monitor.type not in kinds:
                continue
            if wanted and not any(_names(monitor, entry) for entry in wanted):
                continue
            chosen.append(monitor)
        return chosen

    # --- running -------------------------------------------------------------------------

    def observe(self) -> None:
        """After every control step; a dictionary walk when nothing moved."""
        now_s = self._clock.monotonic()
        transaction = self._transaction_id()
        for watch in self._custom.values():
            monitor = watch.monitor
            if monitor.transaction and transaction is None:
                watch.seen = Seen()
                continue
            value = self._model.value(watch.variable)
            rule = Rule(monitor.type, monitor.value)
            raised, watch.seen = judge(rule, watch.seen, value or None, now_s)
            if raised is None or monitor.severity > self._settings.level:
                continue
            data: dict[str, Any] = {
                "eventId": self._event_ids.next(),
                "timestamp": iso_utc(self._clock.now()),
                "trigger": raised.trigger,
                "actualValue": value,
                "eventNotificationType": "CustomMonitor",
                "variableMonitoringId": monitor.id,
                "component": monitor.component,
                "variable": monitor.variable,
            }
            if raised.cleared:
                data["cleared"] = True
            if transaction is not None and monitor.transaction:
                data["transactionId"] = transaction
            payload = {"generatedAt": data["timestamp"], "seqNo": 0, "eventData": [data]}
            if monitor.severity <= self._settings.offline_severity:
                self._outbox.put_durable("NotifyEvent", payload)
            else:
                self._outbox.put("NotifyEvent", payload)

    # --- bookkeeping ---------------------------------------------------------------------

    def _all(self) -> list[Monitor]:
        return [*HARD_WIRED, *(watch.monitor for watch in self._custom.values())]

    def _add(self, monitor: Monitor, variable: Variable) -> None:
        """A delta counts from the value when the monitor is set, not from the first step
        after it (the value may have moved in between)."""
        seen = Seen(reference=self._model.value(variable) or None)
        self._custom[monitor.id] = Watch(monitor, variable, seen)

    def _next_id(self) -> int:
        return max([FIRST_CUSTOM_ID - 1, *self._custom]) + 1

    def _save(self) -> None:
        stored = [asdict(watch.monitor) for watch in self._custom.values()]
        self._store.set_setting(MONITORS_SETTING, json.dumps(stored))


def _same_watch(a: Monitor, b: Monitor) -> bool:
    """Two monitors that would raise the same events."""
    return (a.component, a.variable, a.type, a.value, a.severity) == (
        b.component,
        b.variable,
        b.type,
        b.value,
        b.severity,
    )


def _names(monitor: Monitor, entry: Mapping[str, Any]) -> bool:
    """Whether a componentVariable entry of GetMonitoringReport selects `monitor`."""
    component = entry["component"]
    if str(component.get("name", "")).casefold() != monitor.component["name"].casefold():
        return False
    evse = component.get("evse")
    if evse is not None and evse.get("id") != monitor.component.get("evse", {}).get("id"):
        return False
    variable = entry.get("variable")
    if variable is None:
        return True
    return str(variable.get("name", "")).casefold() == str(monitor.variable["name"]).casefold()
