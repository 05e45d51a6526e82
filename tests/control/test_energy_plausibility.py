"""The energy register's plausibility check, pure: readings a 32 A 3-phase board cannot have
produced are never adopted, the correct ones around them always are, and only several
agreeing readings make a new baseline."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.control.energy_plausibility import (
    CONFIRMING_READS,
    EnergyRules,
    EnergyTrack,
    judge_energy,
)

RULES = EnergyRules(32 * 230 * 3)
POLL_S = 1.0

true_steps = st.lists(st.floats(0, RULES.max_power_w * POLL_S / 3600), min_size=2, max_size=60)
glitches = st.one_of(
    st.floats(1e4, 1e12),
    st.floats(-1e12, -200.0),
    st.sampled_from([math.nan, math.inf]),
)


@given(true_steps, st.data())
def test_single_glitches_are_never_adopted_and_correct_readings_always_are(
    steps: list[float], data: st.DataObject
) -> None:
    """A glitch is a reading off the true count by more than any delivery could explain;
    at most CONFIRMING_READS - 1 of them in a row, never agreeing with each other."""
    true_wh = 5000.0
    track: EnergyTrack | None = None
    at = 0.0
    in_a_row = 0
    for step in steps:
        at += POLL_S
        true_wh += step
        # The first reading is adopted unjudged (nothing to judge it by); glitches after it.
        glitch = data.draw(st.one_of(st.none(), glitches)) if track and in_a_row < 1 else None
        if glitch is not None:
            in_a_row += 1
            verdict = judge_energy(track, true_wh + glitch, at, RULES)
            if track is not None:
                assert verdict.refused is not None
                assert verdict.energy_wh == track.adopted_wh
                assert not verdict.rebaselined
        else:
            in_a_row = 0
            verdict = judge_energy(track, true_wh, at, RULES)
            if track is not None:
                assert verdict.refused is None, "a correct reading after a glitch is taken"
            assert verdict.energy_wh == true_wh or track is None
        track = verdict.track


@given(st.floats(-1e9, 1e9).filter(lambda jump: abs(jump) > 1000), st.integers(1, 10))
def test_a_register_that_really_moved_is_a_new_baseline_after_the_confirming_reads(
    jump: float, reads: int
) -> None:
    track = judge_energy(None, 5000.0, 0.0, RULES).track
    moved = 5000.0 + jump
    for n in range(1, reads + 1):
        moved += 1.0
        verdict = judge_energy(track, moved, float(n), RULES)
        track = verdict.track
        if n < CONFIRMING_READS:
            assert verdict.refused is not None and verdict.energy_wh == 5000.0
        else:
            assert verdict.refused is None and verdict.energy_wh == moved
        assert verdict.rebaselined == (n == CONFIRMING_READS)


@given(st.floats(0, 1e6), st.floats(0, 86_400))
def test_the_allowance_is_the_rating_over_the_time_plus_the_margin(
    start_wh: float, elapsed_s: float
) -> None:
    """22 080 W for an hour is 22 080 Wh; with 25 % and 100 Wh: 27 700 Wh."""
    most = 22_080 * 1.25 * elapsed_s / 3600 + 100
    assert RULES.allows(start_wh, start_wh + most * 0.999, elapsed_s)
    assert not RULES.allows(start_wh, start_wh + most * 1.001 + 0.01, elapsed_s)
    assert not RULES.allows(start_wh, start_wh - 0.5, elapsed_s), "a register never falls"
    assert not RULES.allows(start_wh, start_wh + 200, -5.0), "time running back allows nothing"
