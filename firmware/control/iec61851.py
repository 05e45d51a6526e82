"""IEC 61851-1 from the EVSE side, as a pure table: what one control step sees -> what the
pilot and the contactor do, and the name of the transition it is.

| pilot | offering | PWM seen, locked | contactor now | -> contactor | transition      |
|-------|----------|------------------|---------------|--------------|-----------------|
| C/D   | yes      | yes              | open          | close        | B->C            |
| C/D   | yes      | yes              | closed        | keep         | charging/resume |
| any   | any      | any              | open          | keep open    | idle/offering   |
| C/D   | no       | any, no fault    | closed        | keep (<6 s)  | suspend         |
| C/D   | no       | any, no fault    | closed        | open (>=6 s) | suspend timeout |
| B     | any      | any              | closed        | open         | C->B            |
| A     | any      | any              | closed        | open         | ->A             |
| E     | any      | any              | closed        | open         | E               |
| any   | fault    | any              | closed        | open         | F               |

The pilot offers PWM exactly while `offering` holds (`pilot_offers`): below 6 A there is no
duty (table A.7), so a low limit suspends like a withdrawn authorization does, and so does
a phase switch until the phase contactor has switched and the EV has had its pause. Closing waits
for a sample taken with the PWM running, so the EV's diode has been seen before energy flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from pievse.hal.interfaces import PilotState

CONNECTED = (PilotState.B, PilotState.C, PilotState.D)
DRAWING = (PilotState.C, PilotState.D)


class Transition(StrEnum):
    IDLE = "idle"
    """Nothing offered and the contactor open: +12 V steady (state A or B1)."""
    OFFERING = "offering"
    """PWM on, the contactor open: the EV has not asked yet (B2), or the lock or the first
    sample with the PWM running is still awaited."""
    B_TO_C = "B->C"
    CHARGING = "charging"
    RESUME = "resume"
    """The offer came back while the EV, suspended, had kept state C."""
    SUSPEND = "suspend"
    """The offer is withdrawn and the EV still draws: it has until the suspend timeout to
    go to B before the contactor opens under load."""
    SUSPEND_TIMEOUT = "suspend timeout"
    C_TO_B = "C->B"
    TO_A = "->A"
    E = "E"
    F = "F"


class ContactorAction(Enum):
    CLOSE = "close"
    OPEN = "open"
    KEEP = "keep"


@dataclass(frozen=True)
class OfferInputs:
    pilot: PilotState
    in_session: bool
    finishing: bool
    """The session ended and the EV has not been unplugged yet."""
    blocked: bool
    """The CSMS refused the session's tag and StopTransactionOnInvalidId is false."""
    faulted: bool
    duty_percent: float | None
    """The duty of the arbitrated limit; None below 6 A."""
    switching_phases: bool = False
    """A phase switch holds the offer back until it is done."""


def pilot_offers(inputs: OfferInputs) -> bool:
    """Whether the pilot runs PWM this step."""
    return (
        inputs.in_session
        and not inputs.finishing
        and not inputs.blocked
        and not inputs.faulted
        and not inputs.switching_phases
        and inputs.pilot in CONNECTED
        and inputs.duty_percent is not None
    )


@dataclass(frozen=True)
class EvseInputs:
    pilot: PilotState
    offering: bool
    pwm_seen: bool
    """The PWM is commanded and the step's sample was taken with it running."""
    locked: bool
    """The connector is locked, or the box has no lock."""
    contactor_closed: bool
    """As commanded."""
    faulted: bool
    suspended_for_s: float | None
    """Since when the contactor has been closed without an offer; None when it has not."""
    suspend_timeout_s: float


@dataclass(frozen=True)
class EvseStep:
    contactor: ContactorAction
    transition: Transition
    suspending: bool
    """Whether the suspend timer runs after this step (it starts on the first such step)."""


def contactor_step(s: EvseInputs) -> EvseStep:
    if s.offering and s.pilot in DRAWING and s.pwm_seen and s.locked:
        if not s.contactor_closed:
            return EvseStep(ContactorAction.CLOSE, Transition.B_TO_C, False)
        kept = Transition.RESUME if s.suspended_for_s is not None else Transition.CHARGING
        return EvseStep(ContactorAction.KEEP, kept, False)
    if not s.contactor_closed:
        waiting = Transition.OFFERING if s.offering else Transition.IDLE
        return EvseStep(ContactorAction.KEEP, waiting, False)
    if s.pilot in DRAWING and not s.faulted:
        if (s.suspended_for_s or 0.0) < s.suspend_timeout_s - 1e-6:
            return EvseStep(ContactorAction.KEEP, Transition.SUSPEND, True)
        return EvseStep(ContactorAction.OPEN, Transition.SUSPEND_TIMEOUT, False)
    return EvseStep(ContactorAction.OPEN, _opening(s), False)


def _opening(s: EvseInputs) -> Transition:
    if s.faulted or s.pilot == PilotState.F:
        return Transition.F
    if s.pilot == PilotState.E:
        return Transition.E
    if s.pilot == PilotState.A:
        return Transition.TO_A
    return Transition.C_TO_B
