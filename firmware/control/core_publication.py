"""What the outside reads of the safety core without crossing to its thread: its last
publication (`CoreState`, immutable, swapped whole at every step) and the few devices that
answer a read-only look (the contactor's mirror contact)."""

from __future__ import annotations

from pievse.firmware.control.core_boundary import CoreState
from pievse.firmware.control.limits import Limit
from pievse.firmware.control.safety_core import SafetyCore
from pievse.hal.interfaces import Board, Measurements, PilotSample


class CorePublication:
    """The read side of `ChargeController`, which commands the core."""

    core: SafetyCore
    _board: Board

    @property
    def state(self) -> CoreState:
        return self.core.state

    @property
    def pilot_sample(self) -> PilotSample:
        return self.core.state.pilot

    @property
    def offer(self) -> Limit:
        """The lowest limit at the last step: what the pilot offers once the hold allows."""
        return self.core.state.offer

    @property
    def active_limits(self) -> tuple[Limit, ...]:
        """Every source that imposed a limit at the last step, in precedence order."""
        return self.core.state.active_limits

    @property
    def tick_lateness_s(self) -> object:
        return self.core.tick_lateness_s

    @property
    def measurements(self) -> Measurements | None:
        return self.core.state.measurements

    @property
    def offered_a(self) -> float:
        """What the pilot's duty offers now (0 while suspended)."""
        return self.core.state.offered_a

    @property
    def duty(self) -> float | None:
        """The duty the pilot runs, in percent; None for steady +12 V."""
        return self.core.state.duty

    @property
    def contactor_closed(self) -> bool:
        """As its mirror contact reports now (a read-only look at the device)."""
        return self._board.contactor.is_closed()

    @property
    def temperatures_c(self) -> dict[str, float]:
        return dict(self.core.state.temperatures_c)

    @property
    def cable_rating_a(self) -> float | None:
        return self.core.state.cable_rating_a

    @property
    def ev_soc_percent(self) -> float | None:
        return self.core.state.ev_soc_percent

    @property
    def energy_wh(self) -> float:
        """The meter's energy register at the core's last step (0 before a reading)."""
        m = self.core.state.measurements
        return 0.0 if m is None or m.energy_import_wh is None else m.energy_import_wh
