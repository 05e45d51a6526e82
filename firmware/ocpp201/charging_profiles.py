"""2.0.1 charging profiles in the form the box's smart charging keeps (1.6's), and back.

What differs is naming and nesting: `id` for chargingProfileId, ChargingStationMaxProfile
for ChargePointMaxProfile, a list of up to three schedules for one schedule, evseId for
connectorId. The box runs one schedule per profile (the composite of 1.6, which both
versions share); more than one, or the ChargingStationExternalConstraints a CSMS may not
set, is refused. The 2.0.1 schedule id travels in the stored form, so a profile reported
back (ReportChargingProfiles) is the one that was set.
"""

from __future__ import annotations

from typing import Any

from pievse.firmware.charging.profiles import ProfileError

PURPOSES = {"ChargingStationMaxProfile": "ChargePointMaxProfile"}
"""2.0.1 purpose -> 1.6 purpose where the names differ."""
PURPOSES_BACK = {v: k for k, v in PURPOSES.items()}
SCHEDULE_KEYS = ("start_schedule", "duration", "charging_rate_unit", "min_charging_rate")


def purpose_16(purpose: str | None) -> str | None:
    return None if purpose is None else PURPOSES.get(purpose, purpose)


def to_kept(profile: dict[str, Any]) -> dict[str, Any]:
    """From the library's snake_case 2.0.1 chargingProfile; ProfileError if the box cannot
    run it."""
    purpose = profile["charging_profile_purpose"]
    if purpose == "ChargingStationExternalConstraints":
        raise ProfileError("ChargingStationExternalConstraints are not the CSMS's to set")
    schedules = profile["charging_schedule"]
    if len(schedules) != 1:
        raise ProfileError(f"{len(schedules)} schedules: the box runs one per profile")
    schedule = schedules[0]
    if schedule.get("sales_tariff") is not None:
        raise ProfileError("sales tariffs are for ISO 15118 EVs, which the box does not speak")
    kept_schedule: dict[str, Any] = {
        key: schedule[key] for key in SCHEDULE_KEYS if schedule.get(key) is not None
    }
    kept_schedule["id"] = schedule["id"]
    kept_schedule["charging_schedule_period"] = [
        {k: v for k, v in period.items() if k != "phase_to_use"}
        for period in schedule["charging_schedule_period"]
    ]
    kept: dict[str, Any] = {
        "charging_profile_id": profile["id"],
        "stack_level": profile["stack_level"],
        "charging_profile_purpose": PURPOSES.get(purpose, purpose),
        "charging_profile_kind": profile["charging_profile_kind"],
        "charging_schedule": kept_schedule,
    }
    for key in ("recurrency_kind", "valid_from", "valid_to", "transaction_id"):
        if profile.get(key) is not None:
            kept[key] = profile[key]
    return kept


def to_wire(kept: dict[str, Any]) -> dict[str, Any]:
    """A kept profile as a 2.0.1 chargingProfile (snake_case, as the library writes it)."""
    schedule = dict(kept["charging_schedule"])
    schedule.setdefault("id", kept["charging_profile_id"])
    purpose = kept["charging_profile_purpose"]
    profile: dict[str, Any] = {
        "id": kept["charging_profile_id"],
        "stack_level": kept["stack_level"],
        "charging_profile_purpose": PURPOSES_BACK.get(purpose, purpose),
        "charging_profile_kind": kept["charging_profile_kind"],
        "charging_schedule": [schedule],
    }
    for key in ("recurrency_kind", "valid_from", "valid_to"):
        if kept.get(key) is not None:
            profile[key] = kept[key]
    if kept.get("transaction_id") is not None:
        profile["transaction_id"] = str(kept["transaction_id"])
    return profile
