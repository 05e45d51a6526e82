"""What the CSMS may ask under the OCPP 1.6 Smart Charging profile."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.rpc.routes import on


class SmartChargingProfile:
    def __init__(self, smart: SmartCharging) -> None:
        self._smart = smart

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: Any) -> Any:
        status = self._smart.set_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
    ) -> Any:
        status = self._smart.clear(id, connector_id, charging_profile_purpose, stack_level)
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None
    ) -> Any:
        schedule = self._smart.composite_schedule(connector_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=schedule["start_schedule"],
            charging_schedule=schedule,
        )
