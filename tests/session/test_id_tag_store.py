"""The local authorization list and the authorization cache on a real SQLite file: a
SendLocalList applies whole or not at all, survives a reopen, and the cache stays bounded
by forgetting the tag used longest ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.id_tag_store import CACHE_MAX_ENTRIES, IdTagStore, LocalListError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ACCEPTED = IdTagInfo("Accepted", NOW + timedelta(days=30), "PARENT")
BLOCKED = IdTagInfo("Blocked")


def test_a_full_list_replaces_and_a_differential_one_edits(tmp_path: Path) -> None:
    store = IdTagStore(Store(tmp_path / "box.db"))
    store.update_list(1, True, [("A", ACCEPTED), ("B", BLOCKED)], limit=10)
    store.update_list(2, False, [("A", None), ("C", ACCEPTED)], limit=10)
    assert store.list_version() == 2
    assert store.list_entry("A") is None
    assert store.list_entry("B") == BLOCKED
    assert store.list_entry("C") == ACCEPTED
    store.update_list(3, True, [("D", BLOCKED)], limit=10)
    assert store.list_size() == 1 and store.list_entry("B") is None
    again = IdTagStore(Store(tmp_path / "box.db"))
    assert again.list_version() == 3 and again.list_entry("D") == BLOCKED


@pytest.mark.parametrize(
    ("version", "full", "entries", "status"),
    [
        (0, True, [("X", ACCEPTED)], "Failed"),
        (5, False, [("X", ACCEPTED)], "VersionMismatch"),
        (4, False, [("X", ACCEPTED)], "VersionMismatch"),
        (6, True, [("X", None)], "Failed"),
        (6, False, [("X", ACCEPTED), ("X", BLOCKED)], "Failed"),
        (6, False, [(f"T{i}", ACCEPTED) for i in range(4)], "Failed"),
    ],
)
def test_a_list_that_cannot_apply_changes_nothing(
    tmp_path: Path,
    version: int,
    full: bool,
    entries: list[tuple[str, IdTagInfo | None]],
    status: str,
) -> None:
    store = IdTagStore(Store(tmp_path / "box.db"))
    store.update_list(5, True, [("A", ACCEPTED), ("B", BLOCKED)], limit=5)
    with pytest.raises(LocalListError) as refused:
        store.update_list(version, full, entries, limit=5)
    assert refused.value.status == status
    assert store.list_version() == 5 and store.list_size() == 2
    assert store.list_entry("A") == ACCEPTED and store.list_entry("X") is None


def test_the_cache_forgets_the_tag_used_longest_ago(tmp_path: Path) -> None:
    store = IdTagStore(Store(tmp_path / "box.db"))
    for i in range(CACHE_MAX_ENTRIES):
        store.remember(f"T{i}", ACCEPTED, NOW + timedelta(seconds=i))
    later = NOW + timedelta(hours=1)
    assert store.cached("T0", later) == ACCEPTED  # a use: T1 is now the oldest
    store.remember("NEW", BLOCKED, later + timedelta(seconds=1))
    assert store.cache_entry("T1") is None
    assert store.cache_entry("T0") == ACCEPTED and store.cache_entry("NEW") == BLOCKED
    store.forget("T0")
    assert store.cache_entry("T0") is None
    store.clear_cache()
    assert store.cache_entry("NEW") is None


tags = st.sampled_from(["A", "B", "C", "D", "E"])
infos = st.sampled_from([ACCEPTED, BLOCKED, IdTagInfo("Expired", NOW)])
updates = st.lists(
    st.tuples(
        st.booleans(),
        st.lists(st.tuples(tags, st.one_of(st.none(), infos)), max_size=5),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(steps=updates)
def test_the_list_is_what_the_updates_that_applied_made_it(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[bool, list[tuple[str, IdTagInfo | None]]]],
) -> None:
    store = IdTagStore(Store(tmp_path_factory.mktemp("list") / "box.db"))
    model: dict[str, IdTagInfo] = {}
    version = 0
    for full, entries in steps:
        try:
            store.update_list(version + 1, full, entries, limit=3)
        except LocalListError:
            continue
        version += 1
        model = {} if full else dict(model)
        for tag, info in entries:
            if info is None:
                model.pop(tag, None)
            else:
                model[tag] = info
    assert store.list_version() == version
    assert {tag: store.list_entry(tag) for tag in "ABCDE"} == {
        tag: model.get(tag) for tag in "ABCDE"
    }
    assert len(model) <= 3
