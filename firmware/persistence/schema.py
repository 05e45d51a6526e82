"""Opening a database whatever release migrated it last: migrate forward, use a newer one
whose floor this release reaches, or fall back to the snapshot taken before the migration
that raised the floor (see `migrations`).

The snapshot is `<database>.before-migration`, written with VACUUM INTO just before a
migration that is not additive runs. A controller that finds the floor above its own schema
(an update migrated and was rolled back, or an older release was installed by hand) puts the
newer database aside as `<database>.schema-<version>` and restores the snapshot: what the
newer release recorded after its migration is in the file put aside, not lost silently.
Commands that only read the database beside a running box never swap it: they refuse.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from pievse.firmware.persistence.migrations import Migration, floor_of

log = logging.getLogger(__name__)
FLOOR_SETTING = "schema:floor"
SNAPSHOT_SUFFIX = ".before-migration"


class StoreError(RuntimeError):
    """The database cannot be used by this release (it needs a newer one, and no snapshot
    this one can use exists)."""


def plan(version: int, floor: int, own: int) -> str:
    """What a release at schema `own` does with a database at `version` whose floor is
    `floor`: "migrate" (up to `own`), "use" (newer, but additive beyond `own`) or
    "restore" (the floor is above `own`)."""
    if version <= own:
        return "migrate"
    return "use" if floor <= own else "restore"


def state(db: sqlite3.Connection, migrations: Sequence[Migration]) -> tuple[int, int]:
    """(version, floor) of an open database. A database from before floors were recorded
    gets the floor its version has here; one newer than `migrations` without a floor is
    taken as needing its own version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    row = None
    if version:
        row = db.execute("SELECT value FROM settings WHERE key=?", (FLOOR_SETTING,)).fetchone()
    if row is not None:
        return version, int(row[0])
    return version, floor_of(migrations, version) if version <= len(migrations) else version


def migrate(db: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Runs the migrations the database has not had, each in one transaction with its
    version and floor; snapshots first before one that is not additive."""
    version, floor = state(db, migrations)
    for number in range(version, len(migrations)):
        migration = migrations[number]
        if not migration.additive and number > 0:
            snapshot(db, snapshot_path(path))
        floor = floor if migration.additive else number + 1
        try:
            db.executescript(
                f"BEGIN IMMEDIATE;\n{migration.sql}\n"
                f"PRAGMA user_version={number + 1};\n"
                f"INSERT INTO settings(key, value) VALUES('{FLOOR_SETTING}', '{floor}') "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value;\nCOMMIT;"
            )
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    if version == len(migrations) and version:
        db.execute(
            "INSERT OR IGNORE INTO settings(key, value) VALUES(?, ?)", (FLOOR_SETTING, str(floor))
        )


def snapshot_path(path: Path) -> Path:
    return path.with_name(path.name + SNAPSHOT_SUFFIX)


def snapshot(db: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the database, in place only once complete."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    db.execute("VACUUM INTO ?", (str(partial),))
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    log.info("database snapshot before a migration that is not additive: %s", target)


def refusal(path: Path, found: tuple[int, int], own: int) -> StoreError:
    version, floor = found
    return StoreError(
        f"database {path} has schema version {version}, which needs a release of schema "
        f"{floor} or newer; this one has {own} (and no snapshot it may use): run a newer pievse"
    )


def restore(path: Path, found: tuple[int, int], migrations: Sequence[Migration]) -> None:
    """Puts the (closed) database at `path`, found at (version, floor), aside and brings
    back the snapshot if this release can use it; raises StoreError otherwise."""
    saved, own = snapshot_path(path), len(migrations)
    usable = False
    if saved.exists():
        copy = sqlite3.connect(f"file:{saved}?mode=ro", uri=True)
        try:
            usable = plan(*state(copy, migrations), own) != "restore"
        finally:
            copy.close()
    if not usable:
        raise refusal(path, found, own)
    version = found[0]
    aside = path.with_name(f"{path.name}.schema-{version}")
    os.link(path, aside)  # a power cut from here on leaves one of the two at `path`
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.replace(companion, aside.with_name(aside.name + suffix))
    os.replace(saved, path)
    log.warning(
        "database %s was migrated to schema %d, which this release (%d) cannot use: restored "
        "the snapshot from before that migration; the newer database is kept as %s",
        path,
        version,
        own,
        aside,
    )
