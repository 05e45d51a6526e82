"""A box's store flushes every commit to disk (a committed row survives power loss); a
fleet's simulated box's store does not, and its commits still survive the process."""

from __future__ import annotations

from pathlib import Path

from pievse.firmware.persistence.store import Store

FULL, NORMAL = 2, 1
"""PRAGMA synchronous values."""


def test_a_box_store_flushes_every_commit(tmp_path: Path) -> None:
    store = Store(tmp_path / "pievse.db")
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == FULL
    store.close()


def test_a_simulated_box_store_keeps_commits_without_a_flush_each(tmp_path: Path) -> None:
    store = Store(tmp_path / "pievse.db", power_safe=False)
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
    store.set_setting("kept", "yes")
    store.close()
    reopened = Store(tmp_path / "pievse.db")
    assert reopened.get_setting("kept") == "yes"
    reopened.close()
