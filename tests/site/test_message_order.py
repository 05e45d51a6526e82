"""Which site messages are new, as a pure rule: nothing at or before the last heard from a
box counts, a restarted box is heard at once, and nothing is remembered past the clock
window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.site.message_order import MAX_SENDERS, MessageOrder

WINDOW_S = 120.0
STAMPS = st.lists(
    st.tuples(st.floats(1000.0, 1100.0, allow_nan=False), st.integers(0, 50)), max_size=30
)


@given(STAMPS)
def test_what_counts_is_strictly_newer_than_everything_that_counted_before(
    stamps: list[tuple[float, int]],
) -> None:
    order = MessageOrder(WINDOW_S)
    counted: list[tuple[float, int]] = []
    for at, seq in stamps:
        if order.newer("box:b", at, seq, wall=1100.0):
            assert all((at, seq) > earlier for earlier in counted)
            counted.append((at, seq))
        else:
            assert counted and (at, seq) <= counted[-1]


def test_a_replay_is_refused_and_a_restart_is_heard_at_once() -> None:
    order = MessageOrder(WINDOW_S)
    assert order.newer("box:b", 1000.0, 500, 1000.0)
    assert not order.newer("box:b", 1000.0, 500, 1001.0), "the same message again"
    assert not order.newer("box:b", 990.0, 499, 1001.0), "an older one"
    assert order.newer("box:b", 1002.0, 1, 1002.0), "restarted: sequence from 1, later time"
    assert not order.newer("box:b", 1000.0, 501, 1003.0), "the earlier run's, played back"
    assert order.newer("grid:b", 1000.0, 0, 1003.0), "a box's grid readings count apart"


def test_a_sender_is_forgotten_once_its_time_left_the_window_and_senders_are_bounded() -> None:
    order = MessageOrder(WINDOW_S)
    assert order.newer("box:b", 1000.0, 9, 1000.0)
    assert not order.newer("box:b", 990.0, 1, 1000.0 + WINDOW_S)
    assert order.newer("box:b", 990.0, 1, 1000.0 + WINDOW_S + 1), "its clock stepped back"
    for i in range(MAX_SENDERS):
        order.newer(f"box:{i}", 2000.0, 1, 2000.0)
    assert not order.newer("box:one-too-many", 2000.0, 1, 2000.0)
    assert order.newer("box:0", 2001.0, 2, 2001.0), "a known sender is still heard"
