"""The compatibility floor on real SQLite files: a release keeps using a database a newer
release migrated additively, refuses one whose floor is above it, and falls back to the
snapshot taken before a migration that is not additive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.persistence import schema
from pievse.firmware.persistence.migrations import MIGRATIONS, Migration, floor_of
from pievse.firmware.persistence.store import Store, StoreError

ADDITIVE = (*MIGRATIONS, Migration("ALTER TABLE sessions ADD COLUMN tariff TEXT;"))
REWRITING = (
    *MIGRATIONS,
    Migration("ALTER TABLE sessions DROP COLUMN stop_reason;", additive=False),
)
OWN = len(MIGRATIONS)


def add_session(store: Store, tag: str) -> None:
    store.db.execute(
        "INSERT INTO sessions(connector_id, id_tag, started_at, meter_start_wh) "
        "VALUES(1, ?, '2026-01-01T00:00:00Z', 0)",
        (tag,),
    )


def tags(store: Store) -> list[str]:
    return [row[0] for row in store.db.execute("SELECT id_tag FROM sessions ORDER BY id")]


def version_and_floor(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        return schema.state(db, MIGRATIONS)
    finally:
        db.close()


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_a_release_refuses_only_a_floor_above_it(version: int, floor: int, own: int) -> None:
    decided = schema.plan(version, min(floor, version), own)
    if version <= own:
        assert decided == "migrate"
    else:
        assert decided == ("restore" if min(floor, version) > own else "use")


def test_the_floor_is_the_last_migration_that_is_not_additive() -> None:
    assert floor_of(MIGRATIONS, 0) == 0
    assert floor_of(MIGRATIONS, OWN) == 1, "everything after the first only adds"
    assert floor_of(ADDITIVE, OWN + 1) == 1
    assert floor_of(REWRITING, OWN + 1) == OWN + 1


def test_an_older_release_uses_a_database_a_newer_one_migrated_additively(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pievse.db"
    own = Store(path)
    add_session(own, "A")
    own.close()
    newer = Store(path, ADDITIVE)
    add_session(newer, "B")
    newer.close()
    assert version_and_floor(path) == (OWN + 1, 1)
    again = Store(path)
    add_session(again, "C")
    assert tags(again) == ["A", "B", "C"]
    again.close()
    assert version_and_floor(path) == (OWN + 1, 1), "left at the newer schema"
    assert not schema.snapshot_path(path).exists(), "an additive migration needs none"


def test_a_migration_that_is_not_additive_snapshots_and_the_rollback_restores(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pievse.db"
    own = Store(path)
    add_session(own, "A")
    own.close()
    newer = Store(path, REWRITING)
    add_session(newer, "B")
    newer.close()
    assert version_and_floor(path) == (OWN + 1, OWN + 1)
    assert schema.snapshot_path(path).exists()
    with pytest.raises(StoreError, match="no snapshot it may use"):
        Store(path)  # a command reading beside the box never swaps the database
    assert version_and_floor(path) == (OWN + 1, OWN + 1)
    back = Store(path, restore_snapshot=True)
    assert tags(back) == ["A"], "the snapshot from before the migration"
    add_session(back, "C")
    back.close()
    assert "restored the snapshot" in caplog.text
    aside = Store(tmp_path / f"pievse.db.schema-{OWN + 1}", REWRITING)
    assert tags(aside) == ["A", "B"], "what the newer release wrote is kept aside"
    aside.close()


def test_a_floor_above_the_release_without_a_snapshot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pievse.db"
    newer = Store(path, REWRITING)
    assert schema.snapshot_path(path).exists()
    newer.discard_snapshot()  # the newer release registered: no way back any more
    newer.close()
    with pytest.raises(StoreError, match=f"needs a release of schema {OWN + 1} or newer"):
        Store(path, restore_snapshot=True)
    assert version_and_floor(path) == (OWN + 1, OWN + 1), "the database is left alone"


def test_a_database_from_before_floors_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "pievse.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM settings WHERE key=?", (schema.FLOOR_SETTING,))
    db.commit()
    db.close()
    Store(path).close()
    assert version_and_floor(path) == (OWN, 1)
    assert sqlite3.connect(path).execute(
        "SELECT value FROM settings WHERE key=?", (schema.FLOOR_SETTING,)
    ).fetchone() == ("1",)


def test_a_failing_migration_leaves_the_database_at_its_version(tmp_path: Path) -> None:
    path = tmp_path / "pievse.db"
    Store(path).close()
    broken = (*MIGRATIONS, Migration("CREATE TABLE t (x); SELECT * FROM no_such_table;"))
    with pytest.raises(sqlite3.OperationalError):
        Store(path, broken)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master WHERE name='t'").fetchone() is None
    assert db.execute("PRAGMA user_version").fetchone()[0] == OWN
    db.close()
