"""One phase or three: which carries more of what the site allows, and when a switch is worth
making the EV stop and re-detect its supply.

Per phase, three phases need three times the power of one for the same current, so a PV
surplus of 3 kW gives 4.3 A on three phases (not enough to charge) and 13 A on one. A main
fuse limits each phase on its own, so a house loading L2 may leave more for one phase on L1
than for three. Three phases are preferred when they can charge at all and carry at least
the power one phase could: they also leave room upwards. A preference must hold for a
delay before it becomes a switch (longer upwards: a 1p->3p switch that is undone minutes
later costs two pauses), and a switch the CSMS asks for (numberPhases 1) waits for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pievse.firmware.control.duty_cycle import MIN_CURRENT_A

TIE_A = 0.01
"""A surplus gives one phase exactly three times the current of three: a tie, not a reason
to switch down."""


@dataclass(frozen=True)
class PhaseOffers:
    """Per-phase current the site allows with one and with three phases switched in."""

    one_a: float
    three_a: float


def preferred_phases(
    offers: PhaseOffers,
    current: int,
    hysteresis_a: float,
    minimum_a: float = MIN_CURRENT_A,
    at_minimum: PhaseOffers | None = None,
) -> int:
    """3 when three phases reach the minimum (by the hysteresis more if the box is on one)
    and carry at least the power of one phase; else 1 where one phase reaches it; else the
    current count (nothing charges either way: a switch would buy nothing).

    `at_minimum`: where the mode charges at the minimum even when `offers` (the surplus)
    do not reach it (min_pv), what the rest of the site allows; the minimum then draws a
    third of the grid's power on one phase, where that phase may have it."""
    need = minimum_a + (0.0 if current == 3 else hysteresis_a)
    if offers.three_a >= need and 3 * offers.three_a >= offers.one_a - TIE_A:
        return 3
    if offers.one_a >= minimum_a + (0.0 if current == 1 else hysteresis_a):
        return 1
    if at_minimum is not None and at_minimum.one_a >= minimum_a:
        return 1
    return current


def cannot_charge(offers: PhaseOffers, phases: int, minimum_a: float = MIN_CURRENT_A) -> bool:
    """Below the minimum with `phases` switched in: the EV is suspended on them."""
    return (offers.one_a if phases == 1 else offers.three_a) < minimum_a


@dataclass(frozen=True)
class PhaseDelays:
    up_s: float = 600.0
    down_s: float = 180.0


@dataclass(frozen=True)
class PhasePlan:
    wanted: int | None = None
    """The phase count preferred over the current one, None when they agree."""
    since: float | None = None


def plan_step(
    plan: PhasePlan, current: int, preferred: int, now: float, delays: PhaseDelays
) -> tuple[PhasePlan, int | None]:
    """The next plan and the phase count to switch to now, if any."""
    if preferred == current:
        return PhasePlan(), None
    since = plan.since if plan.wanted == preferred and plan.since is not None else now
    delay = delays.up_s if preferred == 3 else delays.down_s
    if now - since < delay:
        return replace(plan, wanted=preferred, since=since), None
    return PhasePlan(), preferred
