"""One phase or three: the preference and the delays before it becomes a switch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.energy.phase_choice import (
    PhaseDelays,
    PhaseOffers,
    PhasePlan,
    plan_step,
    preferred_phases,
)

amps = st.floats(0.0, 80.0)
phase_counts = st.sampled_from([1, 3])


@given(amps, amps, phase_counts, st.floats(0.0, 2.0))
def test_the_preference_never_picks_a_count_that_cannot_charge_over_one_that_can(
    one: float, three: float, current: int, hysteresis: float
) -> None:
    chosen = preferred_phases(PhaseOffers(one, three), current, hysteresis)
    power = {1: one if one >= 6 else 0.0, 3: 3 * three if three >= 6 else 0.0}
    if chosen != current:
        need = 6.0 + hysteresis
        offer = one if chosen == 1 else three
        assert offer >= need, "a switch is only worth it past the hysteresis"
    if power[1] == power[3] == 0.0:
        assert chosen == current, "nothing charges either way: no switch"
    if chosen == 1 and three >= 6.0 + hysteresis:
        assert one > 3 * three, "one phase only where it carries more power"


@given(st.floats(0.0, 20_000.0), phase_counts)
def test_a_pv_surplus_prefers_three_phases_exactly_when_they_reach_the_minimum(
    surplus_w: float, current: int
) -> None:
    offers = PhaseOffers(min(32.0, surplus_w / 230.0), min(32.0, surplus_w / 690.0))
    chosen = preferred_phases(offers, current, 0.5)
    if offers.three_a >= 6.5:
        assert chosen == 3
    elif offers.three_a < 6.0 and offers.one_a >= 6.5:
        assert chosen == 1


def test_a_house_loading_l2_and_l3_leaves_more_for_one_phase() -> None:
    assert preferred_phases(PhaseOffers(25.0, 6.0), 3, 0.5) == 1
    assert preferred_phases(PhaseOffers(16.0, 6.0), 3, 0.5) == 3


@given(
    st.lists(st.tuples(phase_counts, st.floats(0.0, 100.0)), min_size=1, max_size=40),
    phase_counts,
)
def test_a_switch_comes_only_after_its_preference_held_for_the_whole_delay(
    steps: list[tuple[int, float]], start: int
) -> None:
    delays = PhaseDelays(up_s=600.0, down_s=180.0)
    plan, current, now = PhasePlan(), start, 0.0
    held_since: float | None = None
    for preferred, dt in steps:
        now += dt
        if preferred == current:
            held_since = None
        elif held_since is None or plan.wanted != preferred:
            held_since = now
        plan, target = plan_step(plan, current, preferred, now, delays)
        if target is not None:
            assert target == preferred != current
            assert held_since is not None
            assert now - held_since >= (delays.up_s if target == 3 else delays.down_s)
            current, held_since = target, None


def test_without_delays_the_preference_switches_at_once() -> None:
    plan, target = plan_step(PhasePlan(), 3, 1, 5.0, PhaseDelays(0.0, 0.0))
    assert (plan, target) == (PhasePlan(), 1)
