"""The schema's history: numbered migrations, `PRAGMA user_version` counting how far a
database went, and beside it a compatibility floor (the settings row `schema:floor`): the
lowest schema version that can still use the database.

A migration is *additive* when a release that does not know it can keep using the
database: new tables, new columns that are nullable or have a default. Additive migrations
raise the version, not the floor, so the release an update rolls back to keeps running on
the database its successor migrated. A migration that is not additive (a column dropped or
renamed, rows rewritten, a new NOT NULL without a default) raises the floor to its own
number, and the store snapshots the database before it runs (see `store`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    sql: str
    additive: bool = True
    """False: a release older than this migration cannot use the database afterwards."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
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
        additive=False,
    ),
    Migration(
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
    ),
    Migration(
        """
        CREATE TABLE charging_profiles (
            id INTEGER PRIMARY KEY,
            connector_id INTEGER NOT NULL,
            session_id INTEGER REFERENCES sessions(id),
            received_at TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        """,
    ),
    Migration(
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
    ),
    Migration(
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
    ),
    Migration(
        """
        CREATE TABLE security_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            tech_info TEXT NOT NULL
        );
        """,
    ),
    Migration(
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
    ),
    # The OCPP version a queued message was made in ("*": either speaks it alike); rows from
    # before were all 1.6.
    Migration(
        """
        ALTER TABLE outbox ADD COLUMN version TEXT NOT NULL DEFAULT '1.6';
        """,
    ),
)


def floor_of(migrations: Sequence[Migration], version: int) -> int:
    """The floor of a database migrated to `version`: the number of the last migration up
    to it that is not additive (0 for an empty database)."""
    return max((n + 1 for n, m in enumerate(migrations[:version]) if not m.additive), default=0)
