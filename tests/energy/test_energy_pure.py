"""Headroom, ramp, surplus and the PV start/stop rules, over generated inputs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.energy.headroom import Ramp, fuse_headroom_a, next_fuse_limit
from pievse.firmware.energy.pv_surplus import (
    PvSettings,
    PvState,
    pv_step,
    smooth,
    surplus_current_a,
)

amps = st.floats(0.0, 80.0)
phase_sets = st.sampled_from([(0,), (1,), (2,), (0, 1, 2)])


@given(
    fuse=st.floats(10.0, 100.0),
    house=st.lists(amps, min_size=3, max_size=3),
    own=st.lists(st.floats(0.0, 32.0), min_size=3, max_size=3),
    phases=phase_sets,
)
def test_headroom_keeps_house_plus_ev_within_the_fuse_on_every_phase_used(
    fuse: float, house: list[float], own: list[float], phases: tuple[int, ...]
) -> None:
    grid = [h + o for h, o in zip(house, own, strict=True)]
    headroom = fuse_headroom_a(fuse, grid, own, phases)
    assert headroom is not None and headroom >= 0.0
    for phase in phases:
        assert house[phase] + headroom <= max(fuse, house[phase]) + 1e-9
    assert headroom == pytest.approx(max(0.0, min(fuse - house[p] for p in phases)))


@given(fuse=st.floats(10.0, 100.0), phases=phase_sets)
def test_no_grid_reading_on_the_phases_used_gives_no_headroom(
    fuse: float, phases: tuple[int, ...]
) -> None:
    assert fuse_headroom_a(fuse, [None, None, None], [0.0, 0.0, 0.0], phases) is None


@given(
    fuse=st.floats(10.0, 100.0),
    house=st.lists(amps, min_size=3, max_size=3),
    more=st.floats(0.0, 40.0),
    phase=st.integers(0, 2),
)
def test_more_house_load_never_gives_more_headroom(
    fuse: float, house: list[float], more: float, phase: int
) -> None:
    own = [0.0, 0.0, 0.0]
    heavier = list(house)
    heavier[phase] += more
    before = fuse_headroom_a(fuse, house, own, (0, 1, 2))
    after = fuse_headroom_a(fuse, heavier, own, (0, 1, 2))
    assert before is not None and after is not None and after <= before


@given(
    previous=st.none() | amps,
    headroom=amps,
    dt=st.floats(0.0, 30.0),
    up=st.floats(0.1, 10.0),
    hysteresis=st.floats(0.0, 2.0),
)
def test_the_fuse_limit_falls_at_once_and_rises_by_the_ramp_past_the_hysteresis(
    previous: float | None, headroom: float, dt: float, up: float, hysteresis: float
) -> None:
    limit = next_fuse_limit(previous, headroom, dt, Ramp(up, hysteresis))
    if previous is None or headroom <= previous:
        assert limit == headroom, "a cut takes the whole excess at once"
        return
    assert previous <= limit <= headroom
    assert limit - previous <= up * dt + 1e-9
    if headroom < previous + hysteresis:
        assert limit == previous


@given(
    export=st.floats(-20_000, 20_000),
    own=st.floats(0, 22_000),
    phases=st.sampled_from([1, 3]),
)
def test_surplus_counts_what_the_ev_draws_as_surplus_too(
    export: float, own: float, phases: int
) -> None:
    surplus = surplus_current_a(export, own, 230.0, phases)
    assert surplus * 230.0 * phases == pytest.approx(export + own, abs=1e-6)


@given(
    previous=st.floats(-50, 50),
    sample=st.floats(-50, 50),
    dt=st.floats(0, 60),
    tau=st.floats(0.1, 120),
)
def test_smoothing_moves_toward_the_sample_and_never_past_it(
    previous: float, sample: float, dt: float, tau: float
) -> None:
    result = smooth(previous, sample, dt, tau)
    assert min(previous, sample) - 1e-9 <= result <= max(previous, sample) + 1e-9


SETTINGS = PvSettings(enable_delay_s=60, disable_delay_s=180, min_charge_s=600)


def _run(surpluses: list[float], every_s: float = 5.0) -> list[tuple[float, float, bool]]:
    state, trace = PvState(), []
    for n, surplus in enumerate(surpluses):
        now = n * every_s
        state, limit = pv_step(state, surplus, now, SETTINGS)
        trace.append((now, limit, state.charging))
    return trace


@given(st.lists(st.floats(0.0, 32.0), min_size=1, max_size=400))
def test_the_pv_limit_is_zero_or_at_least_the_minimum(surpluses: list[float]) -> None:
    for _now, limit, _charging in _run(surpluses):
        assert limit == 0.0 or limit >= SETTINGS.minimum_a


@given(st.lists(st.floats(0.0, 32.0), min_size=1, max_size=400))
def test_charging_starts_only_after_the_enable_delay_and_lasts_the_minimum_time(
    surpluses: list[float],
) -> None:
    trace = _run(surpluses)
    covered_since: float | None = None
    started_at: float | None = None
    for (now, _limit, charging), surplus in zip(trace, surpluses, strict=True):
        covered = surplus >= SETTINGS.minimum_a + SETTINGS.hysteresis_a
        covered_since = (covered_since if covered_since is not None else now) if covered else None
        if charging and started_at is None:
            assert covered_since is not None and now - covered_since >= SETTINGS.enable_delay_s
            started_at = now
        if not charging and started_at is not None:
            assert now - started_at >= SETTINGS.min_charge_s
            started_at = None


def test_passing_clouds_shorter_than_the_disable_delay_do_not_stop_a_session() -> None:
    sunny, cloud = 16.0, 2.0
    day = [sunny] * 200 + ([cloud] * 20 + [sunny] * 40) * 10  # 100 s clouds every 5 min
    trace = _run(day)
    switches = sum(1 for a, b in itertools.pairwise(trace) if a[2] != b[2])
    assert switches == 1, "started once, never stopped"
    assert _run([sunny] * 200 + [cloud] * 400)[-1][2] is False, "a lasting cloud stops it"
