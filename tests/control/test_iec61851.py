"""The IEC 61851-1 table, every combination of what a control step can see."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.control.iec61851 import (
    ContactorAction,
    EvseInputs,
    OfferInputs,
    Transition,
    contactor_step,
    pilot_offers,
)
from pievse.hal.interfaces import PilotState

TIMEOUT_S = 6.0
SUSPENDED = (None, 0.0, 3.0, 5.99, 6.0, 60.0)
ALL_INPUTS = [
    EvseInputs(pilot, offering, pwm, locked, closed, faulted, suspended, TIMEOUT_S)
    for pilot, offering, pwm, locked, closed, faulted, suspended in itertools.product(
        PilotState, *([(False, True)] * 5), SUSPENDED
    )
    # pilot_offers never offers under a fault nor outside B/C/D: the table need not answer
    if not (offering and (faulted or pilot in (PilotState.A, PilotState.E, PilotState.F)))
]


def test_the_table_answers_every_reachable_input() -> None:
    assert len(ALL_INPUTS) == 720  # 6 pilot states x 2^5 x 6 timers, less the unreachable
    seen = {contactor_step(s).transition for s in ALL_INPUTS}
    assert seen == set(Transition)


@pytest.mark.parametrize("s", ALL_INPUTS, ids=str)
def test_closing_needs_an_ev_drawing_under_a_seen_offer_on_a_locked_socket(s: EvseInputs) -> None:
    step = contactor_step(s)
    if step.contactor == ContactorAction.CLOSE:
        assert not s.contactor_closed
        assert s.offering and s.pwm_seen and s.locked and not s.faulted
        assert s.pilot in (PilotState.C, PilotState.D)
        assert step.transition == Transition.B_TO_C


@pytest.mark.parametrize("s", ALL_INPUTS, ids=str)
def test_a_closed_contactor_opens_at_once_outside_c_and_d_or_under_a_fault(s: EvseInputs) -> None:
    step = contactor_step(s)
    if s.contactor_closed and (s.faulted or s.pilot not in (PilotState.C, PilotState.D)):
        assert step.contactor == ContactorAction.OPEN
        assert not step.suspending
        expected = {
            PilotState.A: Transition.TO_A,
            PilotState.B: Transition.C_TO_B,
            PilotState.E: Transition.E,
            PilotState.F: Transition.F,
        }.get(s.pilot, Transition.F)
        assert step.transition == (Transition.F if s.faulted else expected)


@pytest.mark.parametrize("s", ALL_INPUTS, ids=str)
def test_a_withdrawn_offer_waits_for_c_to_b_only_up_to_the_timeout(s: EvseInputs) -> None:
    step = contactor_step(s)
    withdrawn = not (s.offering and s.pwm_seen and s.locked)
    if not (s.contactor_closed and withdrawn and s.pilot in (PilotState.C, PilotState.D)):
        return
    if s.faulted:
        assert step.contactor == ContactorAction.OPEN
    elif s.suspended_for_s is not None and s.suspended_for_s >= TIMEOUT_S:
        assert (step.contactor, step.transition) == (
            ContactorAction.OPEN,
            Transition.SUSPEND_TIMEOUT,
        )
    else:
        assert (step.contactor, step.transition, step.suspending) == (
            ContactorAction.KEEP,
            Transition.SUSPEND,
            True,
        )


@pytest.mark.parametrize("s", ALL_INPUTS, ids=str)
def test_an_open_contactor_is_never_opened_and_only_closed_by_b_to_c(s: EvseInputs) -> None:
    step = contactor_step(s)
    if not s.contactor_closed:
        assert step.contactor != ContactorAction.OPEN
        assert not step.suspending
        if step.contactor == ContactorAction.KEEP:
            want = Transition.OFFERING if s.offering else Transition.IDLE
            assert step.transition == want


def test_an_offer_back_during_a_suspend_resumes_without_reopening() -> None:
    suspended = EvseInputs(PilotState.C, True, True, True, True, False, 2.0, TIMEOUT_S)
    step = contactor_step(suspended)
    assert (step.contactor, step.transition) == (ContactorAction.KEEP, Transition.RESUME)
    steady = EvseInputs(PilotState.C, True, True, True, True, False, None, TIMEOUT_S)
    assert contactor_step(steady).transition == Transition.CHARGING


def test_a_zero_suspend_timeout_opens_on_the_first_step() -> None:
    s = EvseInputs(PilotState.C, False, False, True, True, False, None, 0.0)
    assert contactor_step(s).contactor == ContactorAction.OPEN


@given(
    pilot=st.sampled_from(PilotState),
    in_session=st.booleans(),
    finishing=st.booleans(),
    blocked=st.booleans(),
    faulted=st.booleans(),
    duty=st.none() | st.floats(10.0, 96.0),
    switching=st.booleans(),
)
def test_the_pilot_offers_only_to_an_authorized_connected_session_at_6_a_or_more(
    pilot: PilotState,
    in_session: bool,
    finishing: bool,
    blocked: bool,
    faulted: bool,
    duty: float | None,
    switching: bool,
) -> None:
    offers = pilot_offers(
        OfferInputs(pilot, in_session, finishing, blocked, faulted, duty, switching)
    )
    connected = pilot in (PilotState.B, PilotState.C, PilotState.D)
    assert offers == (
        in_session
        and not finishing
        and not blocked
        and not faulted
        and not switching
        and connected
        and duty is not None
    )
