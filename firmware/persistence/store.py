"""The one SQLite database in the data directory, with numbered schema migrations.

WAL mode with synchronous=FULL: a committed row survives power loss, and readers (the API)
never block the writer (a fleet's simulated boxes: NORMAL, a row survives the process).
`PRAGMA user_version` records how far the migrations went, and a compatibility floor beside
it which releases can still use it (`migrations`, `schema`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from pievse.firmware.persistence import schema
from pievse.firmware.persistence.migrations import MIGRATIONS, Migration
from pievse.firmware.persistence.schema import StoreError as StoreError

log = logging.getLogger(__name__)


class Store:
    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration] = MIGRATIONS,
        restore_snapshot: bool = False,
        power_safe: bool = True,
    ) -> None:
        """`migrations`: this release's schema history (tests give others, as other
        releases would have). `restore_snapshot`: the controller itself (not a command that
        only reads the database beside it) may bring back the snapshot when the database's
        floor is above this release; otherwise such a database is refused (StoreError).
        `power_safe` False (a fleet's simulated box, which has no power to lose): commits
        survive the process, not the machine, and cost no disk flush each (a fresh box's
        migrations and first settings flushed some fifteen times, blocking the fleet's loop
        for tens of milliseconds a box)."""
        self.path = path
        self._power_safe = power_safe
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds AuthorizationKey: owner-only, and SQLite gives its -wal and -shm files
        # the database file's permissions.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        for companion in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            if companion.exists():
                os.chmod(companion, 0o600)
        self.db = self._connect()
        found = schema.state(self.db, migrations)
        if schema.plan(*found, len(migrations)) == "restore":
            self.db.close()
            if not restore_snapshot:
                raise schema.refusal(path, found, len(migrations))
            schema.restore(path, found, migrations)
            self.db = self._connect()
            found = schema.state(self.db, migrations)
        if schema.plan(*found, len(migrations)) == "migrate":
            schema.migrate(self.db, path, migrations)

    def discard_snapshot(self) -> None:
        """Once a release registered on this database it is the one to keep: the snapshot
        from before a migration is no longer a way back (its outbox would send again what
        went out since)."""
        snapshot = schema.snapshot_path(self.path)
        if snapshot.exists():
            snapshot.unlink()
            log.info("a release registered on %s: snapshot %s removed", self.path, snapshot)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if self._power_safe else 'NORMAL'}")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One SQLite transaction around the block; a block inside another joins it.

        Whatever must never be half-done at a power loss goes in one block: a session's end
        and its StopTransaction, an answer's effect and the message's removal.
        """
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def get_setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def close(self) -> None:
        self.db.close()
