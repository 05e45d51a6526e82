"""The checklist's judgements, pure: every limit from docs/hardware.md and EN 50160."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.commissioning import judging as j
from pievse.firmware.commissioning.report import render_table, report_document
from pievse.hal.interfaces import PilotSample, PilotState


def _sample(state: str, high: float, low: float, pwm: bool = False) -> PilotSample:
    return PilotSample(PilotState(state), high, low, pwm, True)


def test_the_pilot_at_rest() -> None:
    assert j.judge_pilot_at_rest(_sample("A", 12.0, 12.0)).outcome == j.Outcome.PASS
    low = j.judge_pilot_at_rest(_sample("A", 11.2, 11.2))
    assert low.outcome == j.Outcome.FAIL and low.reason == "expected 11.4..12.6 V"
    ev = j.judge_pilot_at_rest(_sample("B", 9.0, 9.0))
    assert ev.outcome == j.Outcome.SKIPPED and ev.measured.startswith("state B, high +9.00 V")


def test_the_pwm_levels() -> None:
    good = j.judge_pilot_pwm(_sample("A", 12.1, -11.9, pwm=True), 26.7)
    assert good.outcome == j.Outcome.PASS
    assert good.measured == "state A, high +12.10 V, low -11.90 V at 26.7 % duty"
    lost = j.judge_pilot_pwm(_sample("A", 12.0, 0.0, pwm=True), 26.7)
    assert lost.outcome == j.Outcome.FAIL and lost.reason == "low level expected -12.5..-11.5 V"
    still = j.judge_pilot_pwm(_sample("A", 12.0, 12.0), 26.7)
    assert still.outcome == j.Outcome.FAIL and "not seen running" in still.reason


@given(st.floats(min_value=150, max_value=300), st.floats(min_value=45, max_value=55))
def test_the_supply_passes_exactly_inside_en_50160(volts: float, hz: float) -> None:
    _, problems = j.judge_supply("meter", (volts, volts, volts), 3, hz, 230.0, 50.0)
    inside = 230 * 0.9 <= volts <= 230 * 1.1 and 50 * 0.94 <= hz <= 50 * 1.04
    assert (problems == []) == inside


def test_a_missing_phase_of_the_board_fails_and_one_it_lacks_does_not() -> None:
    measured, problems = j.judge_supply("meter", (230.0, None, 0.0), 3, 50.0, 230.0, 50.0)
    assert measured == "L1 230.0 V, L2 - V, L3 0.0 V, 50.00 Hz"
    assert problems == ["L2 expected 207..253 V", "L3 expected 207..253 V"]
    assert j.judge_supply("meter", (230.0, None, 0.0), 1, 50.0, 230.0, 50.0)[1] == []


def test_the_energy_counter() -> None:
    assert j.judge_energy(10.0, 10.0)[1] == []
    assert j.judge_energy(10.0, 9.0)[1] == ["the energy counter went backwards"]
    assert j.judge_energy(None, 9.0)[1] == ["the meter reads no import energy"]


def test_the_temperatures() -> None:
    assert j.judge_temperature("enclosure", 25.0, 80.0, False)[1] == []
    assert j.judge_temperature("enclosure", 80.0, 80.0, False)[1] == [
        "enclosure at or above its trip point"
    ]
    assert "wiring" in j.judge_temperature("outlet", -273.0, 90.0, False)[1][0]
    assert j.judge_temperature("enclosure", 25.0, 80.0, True)[1] == [
        "enclosure's over-temperature output is active"
    ]


def test_the_clock() -> None:
    now = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert j.judge_clock(now, now, True).outcome == j.Outcome.PASS
    never = datetime(1970, 1, 1, tzinfo=UTC)
    assert "never set" in j.judge_clock(never, never, None).reason
    skewed = j.judge_clock(now, now - timedelta(minutes=5), False)
    assert skewed.outcome == j.Outcome.FAIL and "+300.0 s, NTP not synchronised" in skewed.measured


def test_the_report_fails_on_any_failed_step_and_prints_a_table() -> None:
    now = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    steps = [
        j.passed("pilot +12 V", "state A", "ok"),
        j.skipped("lock", "no lock on this board"),
        j.failed("meter", "", "no reading"),
    ]
    document = report_document("pi-relay-hat", now, now, steps)
    assert document["result"] == "fail"
    assert render_table(document).splitlines() == [
        "commissioning pi-relay-hat, 2026-12-06T21:00:00+00:00",
        "step         result   measured  why",
        "pilot +12 V  PASS     state A   ok",
        "lock         SKIPPED            no lock on this board",
        "meter        FAIL               no reading",
        "result: FAIL (1 pass, 1 fail, 1 skipped)",
    ]
    assert report_document("x", now, now, steps[:2])["result"] == "pass"
