"""NotifyEvent's eventId: one count for every event the box raises (hard-wired problems and
custom monitors), persisted, so the CSMS never sees an id twice across restarts."""

from __future__ import annotations

from pievse.firmware.persistence.store import Store

EVENT_ID_KEY = "ocpp201:event_id"


class EventIds:
    def __init__(self, store: Store) -> None:
        self._store = store

    def next(self) -> int:
        stored = self._store.get_setting(EVENT_ID_KEY)
        number = int(stored) + 1 if stored and stored.isdigit() else 1
        self._store.set_setting(EVENT_ID_KEY, str(number))
        return number
