"""When to charge on one phase or three: from what the main fuse and the PV surplus allow
with each, and from the CSMS's numberPhases; the controller's PhaseSwitch makes the switch.

The delays (`three_phase_delay_s` up, the PV disable delay down) apply where the site is
what decides: a fuse or a surplus that could change its mind within minutes. With neither
(fast mode, no fuse), three phases are always enough and the box goes back to them at once;
a CSMS asking for one phase is followed at once too, and so is any choice made before the
EV has drawn in this plug-in (it has no supply to re-detect yet).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pievse.firmware.config import SiteConfig
from pievse.firmware.control.limits import Limit
from pievse.firmware.control.phase_switch import PhaseSwitch, Stage
from pievse.firmware.energy.phase_choice import (
    PhaseDelays,
    PhaseOffers,
    PhasePlan,
    plan_step,
    preferred_phases,
)
from pievse.firmware.site.charging_mode import ChargingMode
from pievse.firmware.site.main_fuse import MainFuseLimit

SITE_SOURCES = frozenset({"main_fuse", "charging_mode"})
"""Limit sources whose amperes depend on the phases switched in."""
AT_ONCE = PhaseDelays(0.0, 0.0)


class PhasePlanner:
    def __init__(
        self,
        config: SiteConfig,
        switch: PhaseSwitch,
        active_limits: Callable[[], tuple[Limit, ...]],
        main_fuse: MainFuseLimit | None,
        mode: ChargingMode,
        requested: Callable[[datetime], int | None],
        clock: tuple[Callable[[], float], Callable[[], datetime]],
    ) -> None:
        """`requested`: the CSMS's numberPhases now, if any; `clock`: monotonic and now."""
        self._config = config
        self._switch = switch
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
        switch = self._switch
        idle = not switch.connected or switch.ev_declines
        if not switch.available or switch.stage != Stage.STEADY or idle:
            self._plan = PhasePlan()
            return
        current = switch.switched
        if self._requested(self._now()) == 1:
            preferred, delays = 1, AT_ONCE
        else:
            offers, site_decides = self.offers()
            preferred = preferred_phases(offers, current, self._config.pv_hysteresis_a)
            delays = self._delays if site_decides and switch.supplied else AT_ONCE
        self._plan, target = plan_step(self._plan, current, preferred, self._monotonic(), delays)
        if target is not None:
            switch.request(target)

    def offers(self) -> tuple[PhaseOffers, bool]:
        """The per-phase current with one and with three phases, and whether a site source
        (fuse or surplus) is part of it."""
        limits = self._active_limits()
        cap = min((x.current_a for x in limits if x.source not in SITE_SOURCES), default=0.0)
        one = three = cap
        site_decides = False
        for source in (self._fuse_offer, self._mode.surplus_offer_a):
            offered = source(1), source(3)
            if offered[0] is None or offered[1] is None:
                continue
            site_decides = True
            one, three = min(one, offered[0]), min(three, offered[1])
        return PhaseOffers(one, three), site_decides

    def _fuse_offer(self, phases: int) -> float | None:
        return None if self._fuse is None else self._fuse.headroom_a(phases)
