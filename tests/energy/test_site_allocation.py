"""The site allocation every box of a site computes: within the fuse on every phase, the
minimum to as many as fit, max-min fair above it, the same whatever order the claims came
in, and every waiting EV getting its turn."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.energy.site_allocation import (
    BoxDemand,
    allocate,
    available_a,
    house_load_a,
    turn_key,
)

MIN_A = 6.0
TOLERANCE = 0.01
phase_sets = st.sampled_from([(0,), (1,), (2,), (0, 1, 2)])


@st.composite
def demands(draw: st.DrawFn) -> list[BoxDemand]:
    count = draw(st.integers(0, 12))
    return [
        BoxDemand(
            f"box-{i:02d}",
            draw(phase_sets),
            draw(st.sampled_from([0.0, 5.0, 6.0, 10.0, 16.0, 32.0]) | st.floats(0.0, 40.0)),
            draw(st.integers(0, 1)),
            draw(st.integers(0, 2)),
        )
        for i in range(count)
    ]


capacities = st.lists(st.floats(0.0, 100.0), min_size=3, max_size=3)


def phase_sums(allocation: dict[str, float], boxes: list[BoxDemand]) -> list[float]:
    return [sum(allocation[d.box] for d in boxes if p in d.phases) for p in range(3)]


@given(capacities, demands())
def test_every_share_is_zero_or_between_the_minimum_and_the_want_and_each_phase_fits(
    capacity: list[float], boxes: list[BoxDemand]
) -> None:
    allocation = allocate(capacity, boxes, MIN_A)
    assert set(allocation) == {d.box for d in boxes}
    for d in boxes:
        share = allocation[d.box]
        assert share == 0.0 or MIN_A - TOLERANCE <= share <= d.want_a + TOLERANCE
    for p, total in enumerate(phase_sums(allocation, boxes)):
        assert total <= capacity[p] + 1e-9, "never more than the fuse leaves, rounding too"


@given(capacities, demands())
def test_a_box_left_out_could_not_have_had_its_minimum_and_one_held_back_sits_on_a_full_phase(
    capacity: list[float], boxes: list[BoxDemand]
) -> None:
    allocation = allocate(capacity, boxes, MIN_A)
    sums = phase_sums(allocation, boxes)
    rounding = TOLERANCE * (len(boxes) + 1)  # each share is rounded down to 0.01 A
    for d in boxes:
        share = allocation[d.box]
        if share == 0.0 and d.want_a >= MIN_A:
            assert any(sums[p] > capacity[p] - MIN_A - rounding for p in d.phases)
        if share and share < d.want_a - TOLERANCE:
            assert any(sums[p] >= capacity[p] - rounding for p in d.phases), "max-min"


@given(capacities, demands(), st.randoms())
def test_the_order_claims_arrive_in_does_not_change_the_answer(
    capacity: list[float], boxes: list[BoxDemand], rng: random.Random
) -> None:
    shuffled = list(boxes)
    rng.shuffle(shuffled)
    assert allocate(capacity, shuffled, MIN_A) == allocate(capacity, boxes, MIN_A)


@given(st.floats(12.0, 100.0), st.integers(2, 8))
def test_boxes_alike_get_alike_shares(fuse: float, count: int) -> None:
    boxes = [BoxDemand(f"b{i}", (0, 1, 2), 32.0) for i in range(count)]
    allocation = allocate([fuse] * 3, boxes, MIN_A)
    served = sorted({a for a in allocation.values() if a})
    assert len(served) <= 1, allocation
    if fuse >= count * MIN_A:
        assert served == [min(32.0, math.floor(fuse / count * 100 + 1e-6) / 100)]


def test_a_one_phase_box_on_l2_takes_nothing_from_l1_and_l3() -> None:
    boxes = [BoxDemand("three", (0, 1, 2), 32.0), BoxDemand("one", (1,), 32.0)]
    allocation = allocate([25.0, 25.0, 25.0], boxes, MIN_A)
    assert allocation == {"three": 12.5, "one": 12.5}
    boxes = [BoxDemand("a", (0,), 32.0), BoxDemand("b", (1,), 32.0), BoxDemand("c", (2,), 32.0)]
    assert allocate([25.0, 20.0, 16.0], boxes, MIN_A) == {"a": 25.0, "b": 20.0, "c": 16.0}


def test_eight_evs_wanting_six_amps_on_a_25_amp_supply_take_turns() -> None:
    """Each box's turn bookkeeping as SiteShare keeps it, a minute at a time."""
    served_since: dict[str, float | None] = {f"box-{i}": None for i in range(8)}
    waiting_since: dict[str, float | None] = dict.fromkeys(served_since, 0.0)
    turns: dict[str, int] = dict.fromkeys(served_since, 0)
    for minute in range(1, 8 * 30):
        now = 60.0 * minute
        boxes = [
            BoxDemand(
                b, (0, 1, 2), 6.0, turn=turn_key(served_since[b], waiting_since[b], now, 1800)
            )
            for b in served_since
        ]
        allocation = allocate([25.0] * 3, boxes, MIN_A)
        assert sum(1 for a in allocation.values() if a) == 4, "four fit 6 A in 25 A"
        for box, share in allocation.items():
            if share and served_since[box] is None:
                served_since[box], waiting_since[box] = now, None
                turns[box] += 1
            elif not share and served_since[box] is not None:
                served_since[box], waiting_since[box] = None, now
    assert set(turns.values()) == {4}, "every EV had its half-hour turns, in rotation"


def test_a_charging_ev_keeps_its_turn_over_a_newcomer_until_its_turn_is_over() -> None:
    assert turn_key(100.0, None, 200.0, 1800) < turn_key(None, 150.0, 200.0, 1800)
    assert turn_key(100.0, None, 2000.0, 1800) > turn_key(None, 1999.0, 2000.0, 1800)
    assert turn_key(None, 10.0, 20.0, 1800) < turn_key(None, 15.0, 20.0, 1800)


def test_a_done_ev_keeps_its_minimum_only_after_the_waiting_ones() -> None:
    boxes = [BoxDemand("done", (0, 1, 2), 32.0, tier=1), BoxDemand("wants", (0, 1, 2), 32.0)]
    assert allocate([10.0] * 3, boxes, MIN_A) == {"done": 0.0, "wants": 10.0}
    boxes.append(BoxDemand("urgent", (0, 1, 2), 32.0, priority=1))
    assert allocate([13.0] * 3, boxes, MIN_A)["urgent"] > 0


def test_the_house_is_what_the_boxes_do_not_explain() -> None:
    draws = {"a": [10.0, 10.0, 10.0], "b": [6.0, None, None]}
    assert house_load_a([20.0, 12.0, None], draws) == [4.0, 2.0, float("inf")]
    assert available_a(32.0, [4.0, 2.0, float("inf")], [6.0, 0.0, 0.0]) == [22.0, 30.0, 0.0]
    assert available_a(32.0, None, [0.0, 0.0, 0.0]) == [32.0] * 3
