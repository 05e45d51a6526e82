"""What this box asks of its site, read from the controller each step: the phases it draws
on (as the site numbers them), the most its other limits allow, whether its EV waits, and
what it draws."""

from __future__ import annotations

from pievse.firmware.control.controller import ChargeController
from pievse.firmware.site.site_share import OwnDemand
from pievse.hal.interfaces import PilotState

SHARE_SOURCE = "site_share"
CHARGED_A = 1.0
"""A draw this large in a session means its EV has charged (and may since be done)."""


class OwnDemandReader:
    def __init__(self, controller: ChargeController, rotation: tuple[int, int, int]) -> None:
        """`rotation`: the site phase each of the box's L1, L2, L3 is wired to."""
        self._controller = controller
        self._rotation = rotation
        self._charged_in: object | None = None

    def __call__(self) -> OwnDemand:
        controller = self._controller
        own = controller.measurements
        currents = (None, None, None) if own is None else own.current_a
        draw: list[float | None] = [None, None, None]
        for phase, current in zip(self._rotation, currents, strict=True):
            draw[phase] = current
        session = controller.sessions.session
        if session is not None and max((c or 0.0) for c in currents) >= CHARGED_A:
            self._charged_in = session
        others = [x.current_a for x in controller.active_limits if x.source != SHARE_SOURCE]
        return OwnDemand(
            tuple(sorted(self._rotation[: controller.state.phases.in_use])),
            min(others),
            self._tier(session),
            (draw[0], draw[1], draw[2]),
            None if own is None else own.timestamp.timestamp(),
            controller.state.ev_allowed_a,
        )

    def _tier(self, session: object | None) -> int | None:
        """None: no EV to serve; 0: one charges or waits for its first current; 1: one
        that charged and now draws nothing (served after the others)."""
        if session is None or self._controller.supervisor.faults():
            return None
        if self._controller.pilot_sample.state in (PilotState.C, PilotState.D):
            return 0
        return 1 if self._charged_in is session else 0
