"""Block K, smart charging (K01-K10, K15 basics): SetChargingProfile for
ChargingStationMaxProfile, TxDefaultProfile and TxProfile, ClearChargingProfile,
GetCompositeSchedule and GetChargingProfiles with ReportChargingProfiles pages.

The profiles go to the box's one smart charging service (the composite and its limit on
the control loop are the same as 1.6's), in its stored form, so they survive a restart and
a change of version. Every profile was set by the CSMS: its chargingLimitSource is CSO.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from pievse.firmware.charging.profiles import ChargingProfile, ProfileError
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.csms.smart_charging import SmartCharging
from pievse.firmware.ocpp201.charging_profiles import purpose_16, to_kept, to_wire
from pievse.firmware.ocpp201.report_pages import chunks, put_pages
from pievse.firmware.rpc.routes import StatusAnswer, after, on

log = logging.getLogger(__name__)
EVSE_IDS = (0, 1)
PROFILES_PER_REPORT = 8


def _wanted(criteria: dict[str, Any], evse_id: int | None, profile: ChargingProfile) -> bool:
    ids = criteria.get("charging_profile_id")
    sources = criteria.get("charging_limit_source")
    purpose = purpose_16(criteria.get("charging_profile_purpose"))
    level = criteria.get("stack_level")
    return (
        (evse_id is None or profile.connector_id == evse_id)
        and (not ids or profile.id in ids)
        and (not sources or "CSO" in sources)
        and (purpose is None or profile.purpose == purpose)
        and (level is None or profile.stack_level == level)
    )


class SmartChargingBlock:
    def __init__(self, smart: SmartCharging, outbox: Outbox) -> None:
        self._smart = smart
        self._outbox = outbox

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        if evse_id not in EVSE_IDS:
            return call_result.SetChargingProfile(status="Rejected")
        try:
            kept = to_kept(charging_profile)
        except ProfileError as exc:
            log.warning("SetChargingProfile rejected: %s", exc)
            return call_result.SetChargingProfile(status="Rejected")
        return call_result.SetChargingProfile(status=self._smart.set_profile(evse_id, kept))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        status = self._smart.clear(
            charging_profile_id,
            criteria.get("evse_id"),
            purpose_16(criteria.get("charging_profile_purpose")),
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        schedule = self._smart.composite_schedule(evse_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": schedule["duration"],
                "schedule_start": schedule["start_schedule"],
                "charging_rate_unit": schedule["charging_rate_unit"],
                "charging_schedule_period": schedule["charging_schedule_period"],
            },
        )

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        found = self._found(charging_profile, evse_id)
        return call_result.GetChargingProfiles(status="Accepted" if found else "NoProfiles")

    def _found(
        self, criteria: dict[str, Any], evse_id: int | None
    ) -> list[tuple[int, dict[str, Any]]]:
        return [
            (profile.connector_id, payload)
            for profile, payload in self._smart.installed()
            if _wanted(criteria, evse_id, profile)
        ]

    @after(Action.get_charging_profiles)
    def after_get_charging_profiles(
        self,
        response: StatusAnswer,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> None:
        """One ReportChargingProfiles per EVSE and page, tbc on all but the last, under this
        request's requestId (a request answered meanwhile has its own)."""
        if response.status != "Accepted":
            return
        found = self._found(charging_profile, evse_id)
        pages = [
            (evse, page)
            for evse in sorted({evse for evse, _ in found})
            for page in chunks(
                [to_wire(payload) for e, payload in found if e == evse], PROFILES_PER_REPORT
            )
        ]
        put_pages(
            self._outbox,
            "ReportChargingProfiles",
            request_id,
            [
                {
                    "chargingLimitSource": "CSO",
                    "evseId": evse,
                    "chargingProfile": snake_to_camel_case(profiles),
                }
                for evse, profiles in pages
            ],
        )
