"""Block B, provisioning: the device model (GetVariables, SetVariables, GetBaseReport and
GetReport with NotifyReport pages: B05-B08) and Reset (B11, B12).

An answer comes first, then what it announced: the NotifyReport pages of a GetBaseReport,
the restart of a Reset. A Reset OnIdle during a transaction is Scheduled and happens when
the transaction ends; Immediate ends it (stoppedReason ImmediateReset) and restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NotRequired, TypedDict

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.control.station import SessionControl
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.device_model import ACTUAL, DeviceModel
from pievse.firmware.ocpp201.report_pages import chunks, put_pages
from pievse.firmware.ocpp201.variables import ITEMS_PER_MESSAGE, check_items_per_message
from pievse.firmware.rpc.routes import StatusAnswer, after, on
from pievse.firmware.session.stop_reasons import StopReason

log = logging.getLogger(__name__)
RESET_DRAIN_S = 10.0


class GetVariableData(TypedDict):
    """One GetVariables entry as the library hands it (snake_case); the component and the
    variable go to the device model as they come."""

    component: dict[str, Any]
    variable: dict[str, Any]
    attribute_type: NotRequired[str]


class SetVariableData(GetVariableData):
    """One SetVariables entry: a GetVariables one with the value to set."""

    attribute_value: str


def _entry(data: GetVariableData, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "attributeType": data.get("attribute_type", ACTUAL),
        "attributeStatus": status,
        "component": data["component"],
        "variable": data["variable"],
        **extra,
    }


class ProvisioningBlock:
    def __init__(
        self,
        model: DeviceModel,
        controller: SessionControl,
        outbox: Outbox,
        clock: Clock,
        restart: Callable[[str], Awaitable[None]],
    ) -> None:
        self._model = model
        self._controller = controller
        self._outbox = outbox
        self._clock = clock
        self._restart = restart

    # --- the device model ----------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[GetVariableData], **_: Any) -> Any:
        check_items_per_message(get_variable_data)
        results = []
        for data in get_variable_data:
            status, value = self._model.get(
                data["component"], data["variable"], data.get("attribute_type", ACTUAL)
            )
            extra = {} if value is None else {"attributeValue": value}
            results.append(_entry(data, status, **extra))
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[SetVariableData], **_: Any) -> Any:
        check_items_per_message(set_variable_data)
        results = []
        for data in set_variable_data:
            status = self._model.set(
                data["component"],
                data["variable"],
                data.get("attribute_type", ACTUAL),
                data["attribute_value"],
            )
            results.append(_entry(data, status))
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        entries = self._model.base_report(report_base)
        return call_result.GetBaseReport(status="Accepted" if entries else "EmptyResultSet")

    @after(Action.get_base_report)
    def after_get_base_report(
        self, response: StatusAnswer, request_id: int, report_base: str, **_: Any
    ) -> None:
        """The pages of this request, under its requestId, with the values of when they are
        made (a request answered meanwhile has its own)."""
        if response.status == "Accepted":
            self._send_report(request_id, self._model.base_report(report_base))

    @on(Action.get_report)
    def on_get_report(
        self,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        component_criteria: list[str] | None = None,
        **_: Any,
    ) -> Any:
        check_items_per_message(component_variable or [])
        chosen = self._model.select(component_variable, component_criteria)
        return call_result.GetReport(status="Accepted" if chosen else "EmptyResultSet")

    @after(Action.get_report)
    def after_get_report(
        self,
        response: StatusAnswer,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        component_criteria: list[str] | None = None,
        **_: Any,
    ) -> None:
        """This request's variables under its requestId, with the values of when the pages
        are made (none left: one page without reportData)."""
        if response.status != "Accepted":
            return
        chosen = self._model.select(component_variable, component_criteria)
        self._send_report(request_id, [self._model.report(v) for v in chosen])

    def _send_report(self, request_id: int, entries: list[dict[str, Any]]) -> None:
        put_pages(
            self._outbox,
            "NotifyReport",
            request_id,
            [{"reportData": page} for page in chunks(entries, ITEMS_PER_MESSAGE)] or [{}],
            iso_utc(self._clock.now()),
        )

    # --- reset ---------------------------------------------------------------------------

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        if evse_id not in (None, 1):
            return call_result.Reset(status="Rejected")
        busy = self._controller.session is not None
        return call_result.Reset(status="Scheduled" if type == "OnIdle" and busy else "Accepted")

    @after(Action.reset)
    async def after_reset(self, response: StatusAnswer, type: str, **_: Any) -> None:
        if response.status == "Rejected":
            return
        if response.status == "Scheduled":
            log.warning("reset requested by the CSMS: when the transaction ends")
            while self._controller.session is not None:
                await asyncio.sleep(0.2)
        else:
            log.warning("%s reset requested by the CSMS", type)
            self._controller.sessions.stop_session(StopReason.HARD_RESET)
        try:
            async with asyncio.timeout(RESET_DRAIN_S):
                await self._outbox.drained()
        except TimeoutError:
            log.warning("the transaction's last events were not delivered; they stay queued")
        await self._restart("Hard" if type == "Immediate" else "Soft")
