"""Installed charging profiles, kept in SQLite as the payloads the CSMS sent.

Installing follows OCPP 1.6 3.13.2: a profile replaces one with the same id, and one with
the same purpose, stack level and connector (for TxProfiles: within the same transaction).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pievse.firmware.charging.profiles import ChargingProfile, ProfileError, parse_profile
from pievse.firmware.persistence.store import Store

log = logging.getLogger(__name__)


class ProfileStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.db
        self._profiles: dict[int, tuple[ChargingProfile, dict[str, Any]]] = {}
        rows = self._db.execute(
            "SELECT id, connector_id, session_id, received_at, payload FROM charging_profiles"
        ).fetchall()
        for profile_id, connector_id, session_id, received_at, payload in rows:
            raw = json.loads(payload)
            try:
                profile = parse_profile(raw, connector_id, datetime.fromisoformat(received_at))
            except (ProfileError, KeyError, TypeError) as exc:
                log.error("dropping stored charging profile %d: %s", profile_id, exc)
                self._delete([profile_id])
                continue
            self._profiles[profile_id] = (replace(profile, session_id=session_id), raw)

    def installed(self) -> list[tuple[ChargingProfile, dict[str, Any]]]:
        """Each profile with the payload it was set with (1.6's form)."""
        return list(self._profiles.values())

    def all(self) -> list[ChargingProfile]:
        return [profile for profile, _ in self._profiles.values()]

    def replaced_by(self, profile: ChargingProfile) -> list[int]:
        """Ids that installing `profile` would replace."""
        return [
            other.id
            for other in self.all()
            if other.id == profile.id
            or (
                other.purpose == profile.purpose
                and other.stack_level == profile.stack_level
                and other.connector_id == profile.connector_id
                and (profile.purpose != "TxProfile" or other.session_id == profile.session_id)
            )
        ]

    def install(self, profile: ChargingProfile, payload: dict[str, Any]) -> None:
        replaced = self.replaced_by(profile)
        with self._store.atomic():
            self._delete(replaced)
            self._db.execute(
                "INSERT INTO charging_profiles(id, connector_id, session_id, received_at, payload)"
                " VALUES(?, ?, ?, ?, ?)",
                (
                    profile.id,
                    profile.connector_id,
                    profile.session_id,
                    profile.received_at.isoformat(),
                    json.dumps(payload),
                ),
            )
        for profile_id in replaced:
            self._profiles.pop(profile_id, None)
        self._profiles[profile.id] = (profile, payload)

    def remove(self, matches: Callable[[ChargingProfile], bool]) -> int:
        gone = [profile.id for profile in self.all() if matches(profile)]
        with self._store.atomic():
            self._delete(gone)
        for profile_id in gone:
            del self._profiles[profile_id]
        return len(gone)

    def _delete(self, ids: list[int]) -> None:
        self._db.executemany("DELETE FROM charging_profiles WHERE id=?", [(i,) for i in ids])
