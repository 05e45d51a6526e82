"""The house's load told from a grid reading and the boxes' own readings, taken by
different meters at different moments, each value lagging its reading by up to a poll:
never less than the house really takes (once a reading is confirmed), exact when nothing
moves, and a raise only once every box has read past the grid reading's moment."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pievse.firmware.site.house_estimate import HouseEstimate

HOUSE_A = 20.0


@st.composite
def draws(draw: st.DrawFn) -> list[tuple[float, float]]:
    """(from second, amps): an EV's draw, each level held at least 5 s (a pilot's duty
    changes at most every 5 s)."""
    levels, at = [], 0.0
    while at < 40.0:
        levels.append((at, draw(st.sampled_from([0.0, 6.0, 10.0, 16.0, 32.0]))))
        at += draw(st.floats(5.0, 15.0))
    return levels


def level(timeline: list[tuple[float, float]], t: float) -> float:
    return [a for start, a in timeline if start <= t][-1]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(draws(), min_size=1, max_size=4),
    st.lists(st.floats(0.0, 1.0), min_size=60, max_size=60),
    st.floats(0.0, 1.0),
)
def test_the_house_is_never_told_as_less_than_it_takes(
    boxes: list[list[tuple[float, float]]], lags: list[float], grid_phase: float
) -> None:
    estimate = HouseEstimate()
    events = []
    for i, timeline in enumerate(boxes):
        for k in range(45):
            read = k + 0.5 * (i % 2)
            value = level(timeline, max(0.0, read - lags[(k + i) % 60]))
            events.append((read, "box", (f"b{i}", (value, value, value))))
    for k in range(45):
        moment = k + grid_phase
        total = HOUSE_A + sum(level(t, moment) for t in boxes)
        events.append((moment, "grid", (total, total, total)))
    names = [f"b{i}" for i in range(len(boxes))]
    seen_grid = 0
    for at, kind, payload in sorted(events, key=lambda e: e[0]):
        if kind == "grid":
            estimate.grid(at, payload)  # type: ignore[arg-type]
            seen_grid += 1
        else:
            estimate.draw(payload[0], at, payload[1])  # type: ignore[index]
        house = estimate.house_a(names)
        if seen_grid >= 4 and at > 5.0:
            assert house is not None and min(house) >= HOUSE_A - 1e-6, (at, house)


def test_with_nothing_moving_the_house_is_exact_and_a_drop_shows_once_confirmed() -> None:
    estimate = HouseEstimate()
    for t in range(10):
        estimate.draw("a", t + 0.3, (10.0, 10.0, 10.0))
        estimate.grid(t + 0.6, (30.0, 30.0, 30.0))
    assert estimate.house_a(["a"]) == [20.0, 20.0, 20.0]
    estimate.grid(10.6, (15.0, 15.0, 15.0))
    assert estimate.house_a(["a"]) == [20.0, 20.0, 20.0], "not yet read past: the higher"
    for t in range(10, 14):
        estimate.draw("a", t + 0.3, (10.0, 10.0, 10.0))
    assert estimate.house_a(["a"]) == [5.0, 5.0, 5.0]


def test_a_box_never_heard_counts_as_drawing_nothing() -> None:
    estimate = HouseEstimate()
    estimate.grid(1.0, (12.0, None, 3.0))
    assert estimate.house_a(["new"]) == [12.0, float("inf"), 3.0]
    assert HouseEstimate().house_a(["x"]) is None
