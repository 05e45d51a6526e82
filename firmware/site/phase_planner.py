"""When to charge on one phase or three: from what the main fuse and the PV surplus allow
with each, and from the CSMS's numberPhases; the safety core's phase switch makes the switch
(the planner reads the core's snapshot of it and hands it requests).

The delays (`three_phase_delay_s` up, the PV disable delay down) apply where the site is
what decides: a fuse or a surplus that could change its mind within minutes. With neither
(fast mode, no fuse), three phases are always enough and the box goes back to them at once;
a CSMS asking for one phase is followed at once too, and so is any choice made before the
EV has drawn in this plug-in (it has no supply to re-detect yet). A fuse that leaves the
phases switched in too little to charge at all, where the other count would charge, is
followed after `FUSE_STALL_S` only: the EV is suspended meanwhile, and the PV's delay would
keep it so for minutes (a kettle's few minutes still pass without a switch and its pause;
a surplus that does the same keeps its delay: that is a passing cloud).

`min_pv` charges at the minimum whatever the surplus: where the surplus reaches the minimum
on neither count, one phase draws it with a third of the power three would take from the
grid.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.core_boundary import PhaseSwitchState, Stage
from pievse.firmware.control.limits import Limit
from pievse.firmware.energy.phase_choice import (
    PhaseDelays,
    PhaseOffers,
    PhasePlan,
    cannot_charge,
    plan_step,
    preferred_phases,
)
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.main_fuse import MainFuseLimit

SITE_SOURCES = frozenset({"main_fuse", "charging_mode"})
"""Limit sources whose amperes depend on the phases switched in."""
AT_ONCE = PhaseDelays(0.0, 0.0)
FUSE_STALL_S = 30.0
"""How long a fuse must leave the phases switched in below the minimum before the box
switches to the count that charges."""


class PhasePlanner:
    def __init__(
        self,
        config: SiteConfig,
        switch: tuple[Callable[[], PhaseSwitchState], Callable[[int], None]],
        active_limits: Callable[[], tuple[Limit, ...]],
        main_fuse: MainFuseLimit | None,
        mode: ChargingMode,
        requested: Callable[[datetime], int | None],
        clock: tuple[Callable[[], float], Callable[[], datetime]],
    ) -> None:
        """`switch`: the core's last snapshot of the phase switch, and how to ask it for a
        count; `requested`: the CSMS's numberPhases now, if any; `clock`: monotonic and now."""
        self._config = config
        self._switch, self._request = switch
        self._active_limits = active_limits
        self._fuse = main_fuse
        self._mode = mode
        self._requested = requested
        self._monotonic, self._now = clock
        self._delays = PhaseDelays(config.three_phase_delay_s, config.pv_disable_delay_s)
        self._plan = PhasePlan()

    def step(self) -> None:
        """A step listener: plans while an EV that wants energy is connected and no switch
        is under way."""
        switch = self._switch()
        idle = not switch.connected or switch.ev_declines
        if not switch.switchable or switch.stage != Stage.STEADY or idle:
            self._plan = PhasePlan()
            return
        current = switch.switched
        if self._requested(self._now()) == 1:
            preferred, delays = 1, AT_ONCE
        else:
            offers, site_decides = self.offers()
            beside_surplus = self.offers(with_surplus=False)[0]
            at_minimum = beside_surplus if self._mode.mode == "min_pv" else None
            preferred = preferred_phases(
                offers, current, self._config.pv_hysteresis_a, at_minimum=at_minimum
            )
            fuse_stalls = cannot_charge(beside_surplus, current) and not cannot_charge(
                beside_surplus, preferred
            )
            delays = self._delays if site_decides and switch.supplied else AT_ONCE
            if fuse_stalls:
                delays = PhaseDelays(
                    min(delays.up_s, FUSE_STALL_S), min(delays.down_s, FUSE_STALL_S)
                )
        self._plan, target = plan_step(self._plan, current, preferred, self._monotonic(), delays)
        if target is not None:
            self._request(target)

    def offers(self, with_surplus: bool = True) -> tuple[PhaseOffers, bool]:
        """The per-phase current with one and with three phases, and whether a site source
        (fuse or surplus) is part of it; `with_surplus` False: what the rest allows."""
        limits = self._active_limits()
        cap = min((x.current_a for x in limits if x.source not in SITE_SOURCES), default=0.0)
        one = three = cap
        site_decides = False
        sources = (self._fuse_offer, self._mode.surplus_offer_a)
        for source in sources if with_surplus else sources[:1]:
            offered = source(1), source(3)
            if offered[0] is None or offered[1] is None:
                continue
            site_decides = True
            one, three = min(one, offered[0]), min(three, offered[1])
        return PhaseOffers(one, three), site_decides

    def _fuse_offer(self, phases: int) -> float | None:
        return None if self._fuse is None else self._fuse.headroom_a(phases)
