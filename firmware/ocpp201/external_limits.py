"""The box's own energy management as 2.0.1 external charging limits (K12, K13): while the
main fuse, the site share or the charging mode (PV surplus, a setpoint) is what holds the
pilot down, the CSMS learns it as NotifyChargingLimit from source EMS, with the limit as a
one-period schedule; when none of them binds any more, ClearedChargingLimit.

A changing limit is told again only once it moved by more than
SmartChargingCtrlr.LimitChangeSignificance percent since it was last told: PV surplus moves
every few seconds, and the CSMS wants the shape, not every step. After a reconnect the limit
in force is told again, as statuses are.
"""

from __future__ import annotations

from collections.abc import Callable

from pievse.firmware.clock import Clock, iso_utc
from pievse.firmware.control.limits import Limit
from pievse.firmware.csms.outbox import Outbox
from pievse.firmware.ocpp201.status_notifications import EVSE_ID
from pievse.firmware.persistence.store import Store
from pievse.firmware.site.own_demand import SHARE_SOURCE

EMS_SOURCES = frozenset({"main_fuse", SHARE_SOURCE, "charging_mode", "setpoint"})
"""Limit sources that are the site's energy management, not the box or the CSMS."""
SOURCE = "EMS"
SIGNIFICANCE_SETTING = "ocpp201:limit_change_significance"
DEFAULT_SIGNIFICANCE_PCT = 10


def notice(told_a: float | None, binding_a: float | None, significance_pct: float) -> str | None:
    """ "notify", "clear" or None: what the CSMS must hear, given the limit it was last told
    (None: none) and the EMS limit binding now (None: none)."""
    if binding_a is None:
        return None if told_a is None else "clear"
    if told_a is None:
        return "notify"
    if told_a == 0:
        return None if binding_a == 0 else "notify"
    # in whole tenths of an ampere, as told: 0.5 -> 0.6 A is 20 %, not 20.000000000000004
    told_tenths, binding_tenths = round(told_a * 10), round(binding_a * 10)
    moved = abs(binding_tenths - told_tenths) * 100 > significance_pct * told_tenths
    return "notify" if moved else None


class ExternalLimits:
    def __init__(
        self,
        outbox: Outbox,
        store: Store,
        clock: Clock,
        offer: Callable[[], Limit],
        accepted: Callable[[], bool],
    ) -> None:
        """`offer`: the limit that binds the pilot now (the control loop's arbitration)."""
        self._outbox = outbox
        self._store = store
        self._clock = clock
        self._offer = offer
        self._accepted = accepted
        self._told_a: float | None = None
        stored = store.get_setting(SIGNIFICANCE_SETTING)
        self.significance_pct = int(stored) if stored else DEFAULT_SIGNIFICANCE_PCT
        """Kept in memory: `observe` runs after every control step."""

    def set_significance(self, value: str) -> str:
        """LimitChangeSignificance from SetVariables: a whole percentage, 0 to 100."""
        if not value.isdigit() or int(value) > 100:
            return "Rejected"
        self.significance_pct = int(value)
        self._store.set_setting(SIGNIFICANCE_SETTING, str(self.significance_pct))
        return "Accepted"

    def resync(self) -> None:
        self._told_a = None
        self.observe()

    def observe(self) -> None:
        """After every control step."""
        if not self._accepted():
            return
        offer = self._offer()
        # judged as the CSMS sees it: a tenth of an ampere
        binding = round(offer.current_a, 1) if offer.source in EMS_SOURCES else None
        what = notice(self._told_a, binding, self.significance_pct)
        if what == "clear":
            self._told_a = None
            cleared = {"chargingLimitSource": SOURCE, "evseId": EVSE_ID}
            self._outbox.put("ClearedChargingLimit", cleared)
        elif what == "notify" and binding is not None:
            self._told_a = binding
            self._outbox.put("NotifyChargingLimit", self._notification(binding))

    def _notification(self, limit_a: float) -> dict[str, object]:
        schedule = {
            "id": 1,
            "startSchedule": iso_utc(self._clock.now()),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
        }
        return {
            "chargingLimit": {"chargingLimitSource": SOURCE},
            "evseId": EVSE_ID,
            "chargingSchedule": [schedule],
        }
