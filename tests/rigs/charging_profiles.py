"""csChargingProfiles payloads as a CSMS sends them, with the fields a test varies."""

from __future__ import annotations

from typing import Any


def profile(
    profile_id: int = 1,
    purpose: str = "TxDefaultProfile",
    stack_level: int = 0,
    periods: list[tuple[int, float]] | None = None,
    unit: str = "A",
    kind: str = "Relative",
    **extra: Any,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": start, "limit": limit} for start, limit in (periods or [(0, 10.0)])
        ],
    }
    schedule.update(extra.pop("schedule", {}))
    return {
        "chargingProfileId": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }
