"""The owner's charging mode as limit sources: `fast` imposes nothing, `off` pauses, `pv`
charges from surplus only (with the start/stop delays of `energy.pv_surplus`), `min_pv`
charges at least 6 A and more from surplus. A local setpoint is a source of its own, the
lowest in precedence. The mode set over the local API is kept across restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pievse.firmware.config import SiteConfig, SiteMode
from pievse.firmware.control.duty_cycle import MIN_CURRENT_A
from pievse.firmware.energy.pv_surplus import (
    PvSettings,
    PvState,
    pv_step,
    smooth,
    surplus_current_a,
)
from pievse.firmware.persistence.store import Store
from pievse.firmware.site.grid_readings import GridReadings

MODES = tuple(mode.value for mode in SiteMode)
"""`[site] mode`'s values: the config file declares them."""
MODE_SETTING = "site:mode"
SETPOINT_SETTING = "site:setpoint_a"
MIN_SETPOINT_A = MIN_CURRENT_A
MAX_SETPOINT_A = 80.0


class ModeError(ValueError):
    pass


class ChargingMode:
    def __init__(
        self,
        config: SiteConfig,
        store: Store,
        grid: GridReadings,
        monotonic: Callable[[], float],
        own_power_w: Callable[[], float],
        supply: tuple[float, Callable[[], int]],
        changed: Callable[[], None],
        *,
        switchable: Callable[[], bool] = lambda: False,
    ) -> None:
        """`supply`: nominal voltage and the phases in use now, to turn the surplus's watts
        into amperes per phase; `switchable`: the box can charge on one phase instead, so
        whether the sun can charge the EV at all is judged on one phase (a switch down to
        it then keeps the session charging instead of starting the enable delay again)."""
        self._config = config
        self._store = store
        self._grid = grid
        self._monotonic = monotonic
        self._own_power_w = own_power_w
        self._supply = supply
        self._changed = changed
        self._switchable = switchable
        self._settings = PvSettings(
            config.pv_enable_delay_s,
            config.pv_disable_delay_s,
            config.pv_min_charge_s,
            config.pv_hysteresis_a,
        )
        self._pv = PvState()
        self._surplus_w: float | None = None
        self._surplus_a: float | None = None
        self._at = 0.0
        stored = store.get_setting(MODE_SETTING)
        self.mode = stored if stored in MODES else config.mode
        setpoint = store.get_setting(SETPOINT_SETTING)
        self.setpoint_a = None if not setpoint else float(setpoint)

    def set(self, mode: str, setpoint_a: float | None) -> None:
        if mode not in MODES:
            raise ModeError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
        if setpoint_a is not None and not MIN_SETPOINT_A <= setpoint_a <= MAX_SETPOINT_A:
            raise ModeError(f"setpoint_a: expected 6..80 A or null, got {setpoint_a}")
        with self._store.atomic():
            self._store.set_setting(MODE_SETTING, mode)
            self._store.set_setting(SETPOINT_SETTING, "" if setpoint_a is None else str(setpoint_a))
        if mode != self.mode:
            self._pv = PvState()
        self.mode, self.setpoint_a = mode, setpoint_a
        self._changed()

    def limit_a(self, _now: datetime) -> float | None:
        if self.mode == "fast":
            return None
        if self.mode == "off":
            return 0.0
        surplus = self._surplus()
        if self.mode == "min_pv":
            return MIN_CURRENT_A if surplus is None else max(MIN_CURRENT_A, surplus)
        if surplus is None:  # no export known: charging would import
            self._pv = PvState()
            return 0.0
        deciding = surplus
        if self._switchable() and self._surplus_w is not None:
            deciding = max(surplus, surplus_current_a(self._surplus_w, 0.0, self._supply[0], 1))
        self._pv, limit = pv_step(self._pv, deciding, self._monotonic(), self._settings)
        return 0.0 if limit == 0.0 else max(MIN_CURRENT_A, surplus)

    def setpoint_limit_a(self, _now: datetime) -> float | None:
        return self.setpoint_a

    def surplus_offer_a(self, phases: int) -> float | None:
        """What the surplus gives per phase with `phases` switched in, where the mode
        charges from it; for choosing between one and three."""
        if self.mode not in ("pv", "min_pv") or self._surplus_w is None:
            return None
        return surplus_current_a(self._surplus_w, 0.0, self._supply[0], phases)

    def _surplus(self) -> float | None:
        """Smoothed in watts, so a phase switch does not disturb the filter."""
        reading = self._grid.fresh(self._config.grid_timeout_s)
        if reading is None or reading.export_w is None:
            self._surplus_w = self._surplus_a = None
            return None
        sample = reading.export_w + self._own_power_w()
        now = self._monotonic()
        self._surplus_w = smooth(
            self._surplus_w, sample, now - self._at, self._config.pv_smoothing_s
        )
        self._at = now
        voltage, phases = self._supply
        self._surplus_a = surplus_current_a(self._surplus_w, 0.0, voltage, phases())
        return self._surplus_a

    def describe(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "setpoint_a": self.setpoint_a,
            "surplus_a": None if self._surplus_a is None else round(self._surplus_a, 2),
            "pv_charging": self._pv.charging,
        }
