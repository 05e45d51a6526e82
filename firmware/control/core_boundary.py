"""What crosses between the safety core (its own thread and loop: the control step, the
board's devices, the safety supervisor) and the outside (the OCPP link, the API and page, MQTT,
site sharing, transfers, updates and the session bookkeeping that writes SQLite).

In: one `CoreInputs` at a time, the outside's whole word (the permission the session gives
and each outside limit with its source and failsafe), stamped with when it was told. Out: one
`CoreState` after every core step, immutable, replaced whole. Both are plain frozen records,
so handing one over is a single reference assignment (`call_soon_threadsafe` into the core's
loop; an attribute the outside reads).

If the outside falls silent for `OUTSIDE_SILENCE_S`, the core keeps the session safe on its
own: every outside limit falls to the lower of its last value and its failsafe, and the
permission is stale, so the contactor is never closed on it (it still opens on every
reaction, and a session already charging goes on at the failsafe offer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from pievse.firmware.control.faults import Fault
from pievse.firmware.control.limits import Limit
from pievse.hal.interfaces import Measurements, PilotSample

OUTSIDE_SILENCE_S = 3.0
"""How long the core acts on the outside's last word. The outside tells the core after every
core step (10 times a second at the default tick), so this is 30 missed turns: a blocked
outside loop, not a busy one."""
DEFAULT_FAILSAFE_A = 6.0
"""An outside limit source's failsafe unless it names its own: the least an EV can charge
at (IEC 61851-1), as a stale grid reading gives."""


@dataclass(frozen=True)
class OutsideLimit:
    source: str
    current_a: float | None
    """None: the source imposes no limit now."""
    failsafe_a: float
    """What the source falls to when the outside is silent (never above its last value)."""


@dataclass(frozen=True)
class CoreInputs:
    """The outside's word to the core: replaced whole on every outside turn."""

    told_at: float
    """The shared monotonic clock when the outside said it."""
    in_session: bool = False
    finishing: bool = False
    blocked: bool = False
    unlock_on_unplug: bool = True
    sessions_ended: int = 0
    """A command as a count: each session the outside ended opens the contactor at once
    (under load if the EV has not answered), as a stop must."""
    limits: tuple[OutsideLimit, ...] = ()
    led_colour: str | None = None
    """What the status LED shows for the statuses the outside keeps (the session's, the
    reservation's); the core shows it, as it owns the LED. None: leave it as it is."""

    def same_word(self, other: CoreInputs) -> bool:
        """Equal apart from when it was told: the core need not step again for it."""
        return (
            self.in_session,
            self.finishing,
            self.blocked,
            self.unlock_on_unplug,
            self.sessions_ended,
            self.limits,
            self.led_colour,
        ) == (
            other.in_session,
            other.finishing,
            other.blocked,
            other.unlock_on_unplug,
            other.sessions_ended,
            other.limits,
            other.led_colour,
        )


NOTHING_TOLD = CoreInputs(told_at=-math.inf)
"""Before the outside's first word: no session, so nothing closes."""


def stale(inputs: CoreInputs, now: float) -> bool:
    return now - inputs.told_at > OUTSIDE_SILENCE_S


def outside_limits(inputs: CoreInputs, now: float) -> list[Limit]:
    """The outside limits as the core applies them now: as told while the outside speaks,
    else each at the lower of its last value and its failsafe."""
    silent = stale(inputs, now)
    limits = []
    for told in inputs.limits:
        value = told.current_a
        if silent:
            value = told.failsafe_a if value is None else min(value, told.failsafe_a)
        if value is not None:
            limits.append(Limit(told.source, max(0.0, value)))
    return limits


class Stage(StrEnum):
    """Where a 1p/3p switch is (`phase_switch`)."""

    STEADY = "steady"
    STOPPING = "stopping"
    """The offer is withdrawn until the main contactor reads open."""
    PAUSE = "pause"
    """The phase contactor switched; the pilot holds the EV off."""


@dataclass(frozen=True)
class PhaseSwitchState:
    """The phase switch as the core left it after a step: what the status document, the
    planner and the limit sources that count phases read, never the switch itself."""

    switchable: bool
    """The board has a phase contactor."""
    switched: int
    """The phases switched in (as commanded)."""
    in_use: int
    """The phases the current really flows on (fewer where the EV draws on fewer)."""
    stage: Stage
    switches: int
    """Switches the EV saw in this plug-in."""
    refused: bool
    """The EV does not follow switches: none until it is unplugged."""
    connected: bool
    ev_declines: bool
    """The pilot offers and the EV stays in B: it would not notice a switch."""
    supplied: bool
    """The EV has had its supply in this plug-in: a switch now needs the pause."""

    def describe(self) -> dict[str, object]:
        """The status document's `site.phases`."""
        return {
            "switchable": self.switchable,
            "switched": self.switched,
            "in_use": self.in_use,
            "stage": self.stage.value,
            "switches": self.switches,
            "refused": self.refused,
        }


@dataclass(frozen=True)
class MeterHealth:
    """The meter watch's counts after a step (`metering`), for the status document; whether
    its energy is flagged is `CoreState.meter_flagged`."""

    online: bool = True
    consecutive_failures: int = 0
    errors: tuple[tuple[str, int], ...] = ()
    """Failed or refused polls by kind, in the order the kinds were first counted."""
    energy_refused: str | None = None
    """Why the last reading's energy was not adopted; None once one is."""


@dataclass(frozen=True)
class CoreState:
    """The core after one step, for everything outside it: status, OCPP, the page, MQTT."""

    pilot: PilotSample
    duty: float | None
    """The duty the pilot runs, in percent; None for steady +12 V."""
    offered_a: float
    """What an EV reads from that duty now (0 while the PWM is off)."""
    offer: Limit
    """The lowest limit at the step: what the pilot offers once the duty hold allows."""
    active_limits: tuple[Limit, ...]
    contactor_closed: bool
    """As its mirror contact reports."""
    ev_allowed_a: float = 0.0
    """The most the EV may draw now: the highest offer of its last `ev_response_s` (the
    over-current check's allowance; a site counts it until a decrease is followed)."""
    faults: frozenset[Fault] = field(default_factory=frozenset)
    measurements: Measurements | None = None
    meter_flagged: bool = False
    temperatures_c: tuple[tuple[str, float], ...] = ()
    cable_rating_a: float | None = None
    outside_stale: bool = False
    """The core steps on the outside's word older than `OUTSIDE_SILENCE_S`."""
    stepped_at: float = 0.0
    unplugs: int = 0
    """Times the core saw the pilot go to A: an unplug between two outside turns (the
    outside stalled, the EV replugged) still ends the session it ended physically."""
    meter: MeterHealth = MeterHealth()
    connector_locked: bool | None = None
    """As the lock reports itself; None for a box without one."""
    ev_soc_percent: float | None = None
    """What the EV reports, where the board can read it."""
    phases: PhaseSwitchState = field(kw_only=True)


@dataclass(frozen=True)
class CoreView:
    """The part of `CoreState` the session keeper follows."""

    pilot: PilotSample
    measurements: Measurements | None
    unplugs: int
