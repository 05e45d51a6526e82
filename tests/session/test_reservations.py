"""Reservations on the injectable clock and a real SQLite file: one at a time, kept over a
restart, ended by expiry (once, told to the listeners), cancellation or the reserved
driver's own session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pievse.firmware.clock import ManualClock
from pievse.firmware.persistence.store import Store
from pievse.firmware.session.id_tag_info import IdTagInfo
from pievse.firmware.session.reservations import (
    Reservation,
    ReservationBook,
    reserve_now_answer,
)

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _reservation(rid: int = 7, tag: str = "CARD", parent: str | None = "FLEET") -> Reservation:
    return Reservation(rid, 1, tag, parent, START + timedelta(minutes=30))


@pytest.mark.parametrize(
    ("connector", "zero", "box", "connector_status", "existing", "rid", "answer"),
    [
        (1, False, "Available", "Available", None, 7, "Accepted"),
        (0, False, "Available", "Available", None, 7, "Rejected"),
        (0, True, "Available", "Available", None, 7, "Accepted"),
        (2, True, "Available", "Available", None, 7, "Rejected"),
        (1, False, "Faulted", "Available", None, 7, "Faulted"),
        (1, False, "Available", "Unavailable", None, 7, "Unavailable"),
        (1, False, "Available", "Preparing", None, 7, "Occupied"),
        (1, False, "Available", "Available", _reservation(3), 7, "Occupied"),
        (1, False, "Faulted", "Reserved", _reservation(7), 7, "Accepted"),
    ],
)
def test_reserve_now_is_answered_from_what_the_box_looks_like(
    connector: int,
    zero: bool,
    box: str,
    connector_status: str,
    existing: Reservation | None,
    rid: int,
    answer: str,
) -> None:
    assert reserve_now_answer(connector, zero, box, connector_status, existing, rid) == answer


def test_a_reservation_outlives_a_restart_and_expires_once(tmp_path: Path) -> None:
    clock = ManualClock(START)
    book = ReservationBook(Store(tmp_path / "box.db"), clock)
    assert book.reserve_now(_reservation(), False, "Available", "Available") == "Accepted"
    again = ReservationBook(Store(tmp_path / "box.db"), clock)
    assert again.current() == _reservation()
    expired: list[int] = []
    again.expiry_listeners.append(expired.append)
    clock.advance(30 * 60)
    assert again.current() is None and again.current() is None
    assert expired == [7]
    assert ReservationBook(Store(tmp_path / "box.db"), clock).current() is None


def test_one_already_expired_is_rejected(tmp_path: Path) -> None:
    clock = ManualClock(START + timedelta(hours=1))
    book = ReservationBook(Store(tmp_path / "box.db"), clock)
    assert book.reserve_now(_reservation(), False, "Available", "Available") == "Rejected"
    assert book.current() is None


def test_only_the_reserved_driver_or_the_group_uses_it(tmp_path: Path) -> None:
    book = ReservationBook(Store(tmp_path / "box.db"), ManualClock(START))
    book.place(_reservation())
    assert book.use("STRANGER", IdTagInfo("Accepted")) is None
    assert book.use("OTHER-CARD", IdTagInfo("Accepted", None, "FLEET")) == 7
    assert book.current() is None
    book.place(_reservation(8))
    assert book.cancel(9) is False and book.current() is not None
    assert book.cancel(8) is True and book.current() is None
