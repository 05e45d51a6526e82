"""What the box knows about id tags without asking: the local authorization list the CSMS
sends (SendLocalList) and the cache of every idTagInfo the CSMS answered.

Both live in SQLite, keyed by id tag, so a lookup stays a primary-key read with 10 000
entries. The cache is bounded: the least recently used entry makes room.
"""

from __future__ import annotations

from datetime import datetime

from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import IdTagInfo

VERSION_SETTING = "local_list_version"
CACHE_MAX_ENTRIES = 1000


class LocalListError(ValueError):
    """SendLocalList cannot be applied; `status` is the answer (Failed, VersionMismatch)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class IdTagStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._db = store.db

    # --- local authorization list -------------------------------------------------------

    def list_version(self) -> int:
        stored = self._store.get_setting(VERSION_SETTING)
        return int(stored) if stored else 0

    def list_entry(self, id_tag: str) -> IdTagInfo | None:
        row = self._db.execute(
            "SELECT status, expiry, parent_id_tag FROM local_list WHERE id_tag=?", (id_tag,)
        ).fetchone()
        return None if row is None else _info(row)

    def list_size(self) -> int:
        count: int = self._db.execute("SELECT COUNT(*) FROM local_list").fetchone()[0]
        return count

    def update_list(
        self, version: int, full: bool, entries: list[tuple[str, IdTagInfo | None]], limit: int
    ) -> None:
        """Applies a SendLocalList in one transaction; raises LocalListError and changes
        nothing when it cannot."""
        if version < 1:
            raise LocalListError("Failed", f"listVersion {version}: must be 1 or more")
        if not full and version <= self.list_version():
            raise LocalListError(
                "VersionMismatch",
                f"differential update to version {version}, list is at {self.list_version()}",
            )
        if full and any(info is None for _, info in entries):
            raise LocalListError("Failed", "a full update needs idTagInfo for every entry")
        tags = [tag for tag, _ in entries]
        if len(set(tags)) != len(tags):
            raise LocalListError("Failed", "an id tag appears twice")
        with self._store.atomic():
            if full:
                self._db.execute("DELETE FROM local_list")
            for tag, info in entries:
                if info is None:
                    self._db.execute("DELETE FROM local_list WHERE id_tag=?", (tag,))
                else:
                    self._db.execute(
                        "INSERT INTO local_list(id_tag, status, expiry, parent_id_tag)"
                        " VALUES(?, ?, ?, ?) ON CONFLICT(id_tag) DO UPDATE SET"
                        " status=excluded.status, expiry=excluded.expiry,"
                        " parent_id_tag=excluded.parent_id_tag",
                        (tag, info.status, _iso(info.expiry), info.parent_id_tag),
                    )
            size = self._db.execute("SELECT COUNT(*) FROM local_list").fetchone()[0]
            if size > limit:  # leaving the block by raising rolls the update back
                raise LocalListError("Failed", f"the list would hold {size} tags, at most {limit}")
            self._store.set_setting(VERSION_SETTING, str(version))

    # --- authorization cache ------------------------------------------------------------

    def cached(self, id_tag: str, now: datetime) -> IdTagInfo | None:
        info = self.cache_entry(id_tag)
        if info is not None:
            self._db.execute(
                "UPDATE auth_cache SET used_at=? WHERE id_tag=?", (now.isoformat(), id_tag)
            )
        return info

    def remember(self, id_tag: str, info: IdTagInfo, now: datetime) -> None:
        with self._store.atomic():
            self._db.execute(
                "INSERT INTO auth_cache(id_tag, status, expiry, parent_id_tag, used_at)"
                " VALUES(?, ?, ?, ?, ?) ON CONFLICT(id_tag) DO UPDATE SET"
                " status=excluded.status, expiry=excluded.expiry,"
                " parent_id_tag=excluded.parent_id_tag, used_at=excluded.used_at",
                (id_tag, info.status, _iso(info.expiry), info.parent_id_tag, now.isoformat()),
            )
            self._db.execute(
                "DELETE FROM auth_cache WHERE id_tag IN (SELECT id_tag FROM auth_cache"
                " ORDER BY used_at DESC LIMIT -1 OFFSET ?)",
                (CACHE_MAX_ENTRIES,),
            )

    def cache_entry(self, id_tag: str) -> IdTagInfo | None:
        """What the cache holds for `id_tag`, without counting as a use."""
        row = self._db.execute(
            "SELECT status, expiry, parent_id_tag FROM auth_cache WHERE id_tag=?", (id_tag,)
        ).fetchone()
        return None if row is None else _info(row)

    def forget(self, id_tag: str) -> None:
        self._db.execute("DELETE FROM auth_cache WHERE id_tag=?", (id_tag,))

    def clear_cache(self) -> None:
        self._db.execute("DELETE FROM auth_cache")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _info(row: tuple[str, str | None, str | None]) -> IdTagInfo:
    status, expiry, parent = row
    return IdTagInfo(status, datetime.fromisoformat(expiry) if expiry else None, parent)
