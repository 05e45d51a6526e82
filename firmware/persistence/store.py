"""The one SQLite database in the data directory, with numbered schema migrations.

WAL mode with synchronous=FULL: a committed row survives power loss, and readers (the API)
never block the writer. `PRAGMA user_version` records how far the migrations went.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        connector_id INTEGER NOT NULL,
        id_tag TEXT NOT NULL,
        started_at TEXT NOT NULL,
        meter_start_wh REAL NOT NULL,
        stopped_at TEXT,
        meter_stop_wh REAL,
        stop_reason TEXT
    );
    """,
    """
    ALTER TABLE sessions ADD COLUMN transaction_id INTEGER;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        action TEXT NOT NULL,
        payload TEXT NOT NULL,
        session_id INTEGER REFERENCES sessions(id),
        attempts INTEGER NOT NULL DEFAULT 0
    );
    """,
    """
    CREATE TABLE charging_profiles (
        id INTEGER PRIMARY KEY,
        connector_id INTEGER NOT NULL,
        session_id INTEGER REFERENCES sessions(id),
        received_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE local_list (
        id_tag TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        expiry TEXT,
        parent_id_tag TEXT
    );
    CREATE TABLE auth_cache (
        id_tag TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        expiry TEXT,
        parent_id_tag TEXT,
        used_at TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE sessions ADD COLUMN parent_id_tag TEXT;
    ALTER TABLE sessions ADD COLUMN reservation_id INTEGER;
    ALTER TABLE sessions ADD COLUMN stop_id_tag TEXT;
    ALTER TABLE sessions ADD COLUMN last_meter_wh REAL;
    ALTER TABLE sessions ADD COLUMN last_meter_at TEXT;
    CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        connector_id INTEGER NOT NULL,
        id_tag TEXT NOT NULL,
        parent_id_tag TEXT,
        expires_at TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE security_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        tech_info TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE plot_history (
        t REAL PRIMARY KEY,
        offered_a REAL,
        l1_a REAL,
        l2_a REAL,
        l3_a REAL,
        power_w REAL
    );
    """,
    # The OCPP version a queued message was made in ("*": either speaks it alike); rows from
    # before were all 1.6.
    """
    ALTER TABLE outbox ADD COLUMN version TEXT NOT NULL DEFAULT '1.6';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    pass


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
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
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema version {version}, newer than this "
                f"release understands ({SCHEMA_VERSION}); run a newer pievse"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.db:
                self.db.execute("BEGIN")
                self.db.executescript(MIGRATIONS[number])
                self.db.execute(f"PRAGMA user_version={number + 1}")

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
