"""1p/3p switching with a second contactor, never under load: the offer is withdrawn, the
main contactor opens (on C->B, or at the suspend timeout as any suspend), the phase
contactor switches, and the pilot holds the EV off (state F, or B1) for the pause so it
re-detects its supply before the offer comes back.

An EV that has not been supplied yet in this plug-in has nothing to re-detect: its switch
needs no pause and does not count towards the cap. One that draws on a single phase with
three switched in is a 1-phase car or one that does not follow switches: the box stops
switching for it until it is unplugged and counts the phases it really draws on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pievse.firmware.config import Config
from pievse.firmware.control.core_boundary import PhaseSwitchState, Stage
from pievse.firmware.control.iec61851 import CONNECTED
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import Board, Measurements, PilotState

log = logging.getLogger(__name__)
IN_USE_A = 1.0
"""A phase carrying at least this much counts as one the EV draws on."""
SENSING_A = 3.0
"""The EV must draw this much on some phase before its phases are counted (it ramps)."""


@dataclass(frozen=True)
class PhaseSwitchSettings:
    pause_s: float = 10.0
    pilot_f: bool = True
    max_switches: int = 4
    operate_s: float = 0.1

    @classmethod
    def of(cls, config: Config) -> PhaseSwitchSettings:
        """From the `[site]` keys, with the main contactor's release time."""
        site = config.site
        return cls(
            site.phase_switch_pause_s,
            site.phase_switch_pilot == "F",
            site.max_phase_switches,
            config.control.contactor_release_s,
        )


def drawn_phases(m: Measurements | None) -> int | None:
    """How many phases the EV draws on, None while it draws too little to tell."""
    if m is None:
        return None
    currents = [c for c in m.current_a if c is not None]
    if max(currents, default=0.0) < SENSING_A:
        return None
    return sum(1 for c in currents if c >= IN_USE_A)


class PhaseSwitch:
    def __init__(
        self, board: Board, supervisor: SafetySupervisor, settings: PhaseSwitchSettings
    ) -> None:
        self._board = board
        self._supervisor = supervisor
        self._settings = settings
        self.available = board.phase_contactor is not None
        self.switched = board.ratings.phases
        """The phases switched in (as commanded; the supervisor checks the mirror)."""
        self.stage = Stage.STEADY
        self._target = self.switched
        self._paused_at = 0.0
        self.switches = 0
        """Switches the EV saw in this plug-in."""
        self.refused = False
        self.ev_phases: int | None = None
        """The phases the EV was last seen drawing on in this plug-in."""
        self._supplied = False
        self.connected = False
        self.ev_declines = False
        """The pilot offers and the EV stays in B (full, or on its own timer): it would not
        notice a switch, so none is planned."""
        if self.available:
            supervisor.switch_phases(True, settings.operate_s)

    @property
    def in_use(self) -> int:
        """The phases the current really flows on: switched in, fewer where the EV draws
        on fewer. Power.Offered, W<->A and the main fuse count these."""
        if self.ev_phases is None:
            return self.switched
        return min(self.switched, self.ev_phases)

    @property
    def supplied(self) -> bool:
        """The EV has had its supply in this plug-in: a switch now needs the pause."""
        return self._supplied or self._supervisor.contactor.commanded_closed

    @property
    def holding_offer(self) -> bool:
        return self.stage != Stage.STEADY

    @property
    def pilot_f(self) -> bool:
        return self.stage == Stage.PAUSE and self._settings.pilot_f

    def request(self, phases: int) -> bool:
        """Asks for a switch; False when this box cannot make it now (no phase contactor,
        a switch under way, the cap reached, an EV that does not follow). On the core's
        thread: the planner's request crosses as a call (`ChargeController.request_phases`)."""
        if not self.available or phases not in (1, 3) or self.stage != Stage.STEADY:
            return False
        if phases == self.switched:
            return False
        if self.supplied and (self.refused or self.switches >= self._settings.max_switches):
            return False
        self._target = phases
        self.stage = Stage.STOPPING
        log.info("switching to %d phase(s)", phases)
        return True

    def step(self, pilot: PilotState, m: Measurements | None, now: float, offering: bool) -> None:
        """`offering`: the pilot ran PWM in the last step."""
        main = self._supervisor.contactor
        self.connected = pilot in CONNECTED
        self.ev_declines = offering and pilot == PilotState.B
        if pilot == PilotState.A and self.stage == Stage.STEADY:
            self._supplied, self.switches, self.refused, self.ev_phases = False, 0, False, None
        if main.is_closed():
            self._supplied = True
            self._watch(m)
        if self.stage == Stage.STOPPING and not main.commanded_closed and not main.is_closed():
            if self._supervisor.switch_phases(self._target == 3, self._settings.operate_s):
                self.switched = self._target
                self.ev_phases = None
                if self._supplied:
                    self.switches += 1
                    self.stage, self._paused_at = Stage.PAUSE, now
                else:
                    self.stage = Stage.STEADY
        elif self.stage == Stage.PAUSE and now - self._paused_at >= self._settings.pause_s:
            self.stage = Stage.STEADY

    def _watch(self, m: Measurements | None) -> None:
        seen = drawn_phases(m)
        if seen is None:
            return
        self.ev_phases = seen
        if self.available and self.switched == 3 and seen == 1 and not self.refused:
            self.refused = True
            log.info(
                "the EV draws on one phase with three switched in (a 1-phase car, or one "
                "that does not follow switches): no more phase switches until it is unplugged"
            )

    def snapshot(self) -> PhaseSwitchState:
        return PhaseSwitchState(
            switchable=self.available,
            switched=self.switched,
            in_use=self.in_use,
            stage=self.stage,
            switches=self.switches,
            refused=self.refused,
            connected=self.connected,
            ev_declines=self.ev_declines,
            supplied=self.supplied,
        )
