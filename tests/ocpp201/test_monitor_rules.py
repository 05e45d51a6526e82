"""The monitor rules over any run of readings: a threshold speaks once per crossing and
clears when the value comes back, a delta only when the value has moved far enough from the
last one it reported, a periodic monitor never faster than its period."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.ocpp201.monitor_rules import Raised, Rule, Seen, judge

readings = st.lists(st.one_of(st.none(), st.integers(0, 11_000).map(str)), max_size=60)


def run(rule: Rule, values: list[str | None], step_s: float = 1.0) -> list[tuple[str, Raised]]:
    seen, raised = Seen(), []
    for number, value in enumerate(values):
        event, seen = judge(rule, seen, value, number * step_s)
        if event is not None:
            assert value is not None, "nothing is raised without a value"
            raised.append((value, event))
    return raised


@given(values=readings, limit=st.integers(0, 11_000), upper=st.booleans())
def test_a_threshold_speaks_at_each_crossing(
    values: list[str | None], limit: int, upper: bool
) -> None:
    rule = Rule("UpperThreshold" if upper else "LowerThreshold", limit)

    def beyond(value: str) -> bool:
        return float(value) > limit if upper else float(value) < limit

    expected, side = [], False
    for value in values:
        if value is not None and beyond(value) != side:
            side = beyond(value)
            expected.append((value, Raised("Alerting", cleared=not side)))
    assert run(rule, values) == expected


@given(values=readings, delta=st.integers(1, 5_000))
def test_a_delta_reports_only_a_move_of_at_least_delta(
    values: list[str | None], delta: int
) -> None:
    raised = run(Rule("Delta", delta), values)
    known = [v for v in values if v is not None]
    if not known:
        assert raised == []
        return
    reference = known[0]
    for value in known[1:]:
        if abs(float(value) - float(reference)) >= delta:
            assert raised.pop(0) == (value, Raised("Delta"))
            reference = value
    assert raised == []


def test_a_delta_on_a_state_reports_every_change() -> None:
    states = ["Available", "Available", "Occupied", None, "Occupied", "Available"]
    assert [value for value, _ in run(Rule("Delta", 0), states)] == ["Occupied", "Available"]


@given(
    values=st.lists(st.just("7"), max_size=40),
    period=st.integers(1, 10),
    step=st.sampled_from([0.25, 1.0, 3.0]),
)
def test_periodic_never_faster_than_its_period(values: list[str], period: int, step: float) -> None:
    seen, times = Seen(), []
    for number, value in enumerate(values):
        event, seen = judge(Rule("Periodic", period), seen, value, number * step)
        if event is not None:
            times.append(number * step)
    assert all(b - a >= period for a, b in itertools.pairwise(times))
    if values:
        assert times[0] == 0, "the first report when the monitor starts"
        assert (len(values) - 1) * step - times[-1] < period + step, "and then every period"
