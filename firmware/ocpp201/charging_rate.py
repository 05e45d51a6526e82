"""TransactionEvent Updated with triggerReason ChargingRateChanged: the current the box
offers the EV moved, whichever limit moved it (a charging profile, the setpoint, the main
fuse, the site share, the phases). The event carries the new rate as a Current.Offered value.

Debounced two ways, so that a ramp (the main fuse following the house, PV surplus following
the clouds) does not flood the CSMS: a change counts only past
SmartChargingCtrlr.LimitChangeSignificance, in percent of the rate last told (as for
NotifyChargingLimit), and two events are at least MIN_INTERVAL_S apart. A change held back by
the interval goes out at the first control step after it, with the rate of then, so the CSMS
always ends up knowing the rate the EV is offered.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pievse.firmware.csms.transaction_reporter import MeterValue
from pievse.firmware.session.sessions import Session

MIN_INTERVAL_S = 10.0


def rate_moved(told_a: float, offered_a: float, significance_pct: float) -> bool:
    """Whether the offer moved past the significance from what the CSMS was told."""
    if told_a == 0:
        return offered_a != 0
    return abs(offered_a - told_a) / told_a * 100 > significance_pct


def due(
    told_a: float,
    offered_a: float,
    significance_pct: float,
    last_sent_s: float,
    now_s: float,
    min_interval_s: float = MIN_INTERVAL_S,
) -> bool:
    """Whether a ChargingRateChanged goes out now."""
    moved = rate_moved(told_a, offered_a, significance_pct)
    return moved and now_s - last_sent_s >= min_interval_s


class ChargingRateWatch:
    def __init__(
        self,
        send: Callable[[Session, MeterValue | None], None],
        current_session: Callable[[], Session | None],
        offered_a: Callable[[], float],
        significance_pct: Callable[[], float],
        monotonic: Callable[[], float],
        offered_value: Callable[[], MeterValue | None],
    ) -> None:
        """`send`: queues the Updated event of a session with its value; `offered_value`:
        a Current.Offered meter value of now."""
        self._send = send
        self._current_session = current_session
        self._offered_a = offered_a
        self._significance_pct = significance_pct
        self._monotonic = monotonic
        self._offered_value = offered_value
        self._told: tuple[int, float] | None = None
        """(session id, the rate it was last told, a tenth of an ampere)."""
        self._last_sent_s = -math.inf

    def observe(self) -> None:
        """After every control step."""
        session = self._current_session()
        if session is None:
            self._told = None
            return
        offered = round(self._offered_a(), 1)
        if self._told is None or self._told[0] != session.id:
            self._told = (session.id, offered)  # the Started event (or a resume) said it
            return
        now = self._monotonic()
        if not due(self._told[1], offered, self._significance_pct(), self._last_sent_s, now):
            return
        self._told = (session.id, offered)
        self._last_sent_s = now
        self._send(session, self._offered_value())
