"""Block N, N02-N06: monitors on the device model's variables (`VariableMonitors`) set,
cleared and reported by the CSMS, and the monitoring base and level it chooses."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.monitoring_settings import MonitoringSettings
from pievse.firmware.ocpp201.report_pages import chunks, put_pages
from pievse.firmware.ocpp201.variable_monitors import Monitor, VariableMonitors
from pievse.firmware.ocpp201.variables import ITEMS_PER_MESSAGE, check_items_per_message
from pievse.firmware.rpc.routes import StatusAnswer, after, on


def report_entries(monitors: list[Monitor]) -> list[dict[str, Any]]:
    """NotifyMonitoringReport's `monitor` entries: one per variable, its monitors in it."""
    grouped: dict[str, dict[str, Any]] = {}
    for monitor in monitors:
        key = repr((monitor.component, monitor.variable))
        entry = grouped.setdefault(
            key,
            {
                "component": monitor.component,
                "variable": monitor.variable,
                "variableMonitoring": [],
            },
        )
        entry["variableMonitoring"].append(monitor.wire())
    return list(grouped.values())


class MonitoringBlock:
    def __init__(
        self,
        monitors: VariableMonitors,
        settings: MonitoringSettings,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self._monitors = monitors
        self._settings = settings
        self._outbox = outbox
        self._clock = clock

    @on(Action.set_variable_monitoring)
    def on_set_variable_monitoring(
        self, set_monitoring_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        check_items_per_message(set_monitoring_data)
        results = []
        for data in set_monitoring_data:
            status, monitor_id = self._monitors.set(data)
            result: dict[str, Any] = {
                "status": status,
                "type": data["type"],
                "severity": data["severity"],
                "component": data["component"],
                "variable": data["variable"],
            }
            if monitor_id is not None:
                result["id"] = monitor_id
            results.append(result)
        return call_result.SetVariableMonitoring(set_monitoring_result=results)

    @on(Action.clear_variable_monitoring)
    def on_clear_variable_monitoring(self, id: list[int], **_: Any) -> Any:
        check_items_per_message(id)
        results = [{"id": number, "status": self._monitors.clear(number)} for number in id]
        return call_result.ClearVariableMonitoring(clear_monitoring_result=results)

    @on(Action.set_monitoring_base)
    def on_set_monitoring_base(self, monitoring_base: str, **_: Any) -> Any:
        return call_result.SetMonitoringBase(status=self._monitors.set_base(monitoring_base))

    @on(Action.set_monitoring_level)
    def on_set_monitoring_level(self, severity: int, **_: Any) -> Any:
        return call_result.SetMonitoringLevel(status=self._settings.set_level(severity))

    @on(Action.get_monitoring_report)
    def on_get_monitoring_report(
        self,
        request_id: int,
        monitoring_criteria: list[str] | None = None,
        component_variable: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        chosen = self._monitors.matching(monitoring_criteria, component_variable)
        return call_result.GetMonitoringReport(status="Accepted" if chosen else "EmptyResultSet")

    @after(Action.get_monitoring_report)
    def after_get_monitoring_report(
        self,
        response: StatusAnswer,
        request_id: int,
        monitoring_criteria: list[str] | None = None,
        component_variable: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> None:
        """This request's monitors under its requestId, as they are when the pages are made."""
        if response.status != "Accepted":
            return
        chosen = self._monitors.matching(monitoring_criteria, component_variable)
        entries = report_entries(chosen)
        put_pages(
            self._outbox,
            "NotifyMonitoringReport",
            request_id,
            # one page without monitors if they were cleared since the answer
            [{"monitor": page} for page in chunks(entries, ITEMS_PER_MESSAGE)] or [{}],
            iso_utc(self._clock.now()),
        )
