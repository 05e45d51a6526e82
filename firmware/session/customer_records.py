"""What the box keeps about one customer, known by their id token, and how it forgets them
(2.0.1 N09, N10: a driver's request under privacy law, passed on by the CSMS).

Kept per token: its local list entry, its authorization cache entry, the sessions it started
or stopped, a reservation for it. Forgetting erases the cache entry and the token in every
ended session (the session itself stays: its times and energy are the site's accounts);
the local list entry stays, since the list is the CSMS's, versioned, and only a SendLocalList
keeps its version true. A running session keeps its token until it ends, because stopping it
needs the token. A reservation for the token is the caller's to cancel (it has a protocol
message of its own).
"""

from __future__ import annotations

from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import IdTagStore

ERASED = "(erased)"
"""What an ended session's token becomes."""


def _info_line(where: str, info: IdTagInfo) -> str:
    line = f"{where}: {info.status}"
    if info.expiry is not None:
        line += f", until {info.expiry.isoformat()}"
    if info.parent_id_tag is not None:
        line += f", group {info.parent_id_tag}"
    return line


class CustomerRecords:
    def __init__(self, store: Store, tags: IdTagStore) -> None:
        self._store = store
        self._db = store.db
        self._tags = tags

    def describe(self, id_tag: str) -> list[str]:
        """One line per record of `id_tag`; none when the box keeps nothing about it."""
        lines = []
        listed = self._tags.list_entry(id_tag)
        if listed is not None:
            lines.append(_info_line("local list", listed))
        cached = self._tags.cache_entry(id_tag)
        if cached is not None:
            lines.append(_info_line("authorization cache", cached))
        for number, started, stopped, start_wh, stop_wh, how in self._db.execute(
            "SELECT id, started_at, stopped_at, meter_start_wh, meter_stop_wh,"
            " CASE WHEN id_tag=? THEN 'started' ELSE 'stopped' END"
            " FROM sessions WHERE id_tag=? OR stop_id_tag=? ORDER BY id",
            (id_tag, id_tag, id_tag),
        ):
            if stopped is None:
                lines.append(f"session {number}: {how} {started}, running")
                continue
            energy_kwh = (stop_wh - start_wh) / 1000
            lines.append(f"session {number}: {how} {started} to {stopped}, {energy_kwh:.3f} kWh")
        for number, expires in self._db.execute(
            "SELECT id, expires_at FROM reservations WHERE id_tag=? ORDER BY id", (id_tag,)
        ):
            lines.append(f"reservation {number}: until {expires}")
        return lines

    def erase(self, id_tag: str) -> None:
        with self._store.atomic():
            self._tags.forget(id_tag)
            ended = "stopped_at IS NOT NULL"
            self._db.execute(
                f"UPDATE sessions SET id_tag=? WHERE id_tag=? AND {ended}", (ERASED, id_tag)
            )
            self._db.execute(
                f"UPDATE sessions SET stop_id_tag=? WHERE stop_id_tag=? AND {ended}",
                (ERASED, id_tag),
            )
