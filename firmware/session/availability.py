"""Availability of the box (connector 0) and its connector, as ChangeAvailability and the
local API change it: kept in the store so it survives restarts (OCPP 1.6 5.2) whoever set it,
applied now, or when the running session ends where it would stop one."""

from __future__ import annotations

from typing import Protocol

from pievse.firmware.persistence.store import Store

SETTING = "availability:{}"
CONNECTOR_IDS = (0, 1)


class Operable(Protocol):
    def set_operative(self, connector_id: int, operative: bool) -> bool:
        """True when it applied now, False when it waits for the session's end."""
        ...


class Availability:
    def __init__(self, store: Store, sessions: Operable) -> None:
        self._store = store
        self._sessions = sessions

    def restore(self) -> None:
        """Before the first status is taken."""
        for connector_id in CONNECTOR_IDS:
            if self._store.get_setting(SETTING.format(connector_id)) == "Inoperative":
                self._sessions.set_operative(connector_id, False)

    def change(self, connector_id: int, operative: bool) -> str:
        """ "Accepted" (applied) or "Scheduled" (after the session); ValueError for a
        connector the box does not have."""
        if connector_id not in CONNECTOR_IDS:
            raise ValueError(f"connector_id must be 0 or 1, got {connector_id}")
        value = "Operative" if operative else "Inoperative"
        self._store.set_setting(SETTING.format(connector_id), value)
        return "Accepted" if self._sessions.set_operative(connector_id, operative) else "Scheduled"
