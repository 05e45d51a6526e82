"""The site around the simulated box: a house load per phase and a PV inverter, set live or
played from a scenario day at a chosen speed, and what a grid meter at the connection reads
of them together with the EV.

The inverter feeds all three phases equally; a phase's grid current is the house's plus
the EV's less the inverter's share, negative when that phase exports. The meter's total
power is negative while the site exports, as a bidirectional meter shows it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pievse.hal.sim.meter_emulator import MeterSource
from pievse.hal.sim.scenario import Scenario, SiteMoment

MAX_HOUSE_A = 200.0
MAX_PV_W = 100_000.0


def grid_values(
    moment: SiteMoment, ev_a: Sequence[float], voltage_v: float, frequency_hz: float
) -> dict[str, float]:
    """A grid meter's values, keyed as the meter emulator's sources key them."""
    pv_a = moment.pv_w / (3 * voltage_v)
    currents = [h + e - pv_a for h, e in zip(moment.house_a, ev_a, strict=True)]
    values = {
        "Power.Active.Import": sum(currents) * voltage_v,
        "Power.Factor": 1.0,
        "Frequency": frequency_hz,
    }
    for i, current in enumerate(currents, start=1):
        values[f"Voltage/L{i}-N"] = voltage_v
        values[f"Current.Import/L{i}"] = current
        values[f"Power.Active.Import/L{i}"] = current * voltage_v
        values[f"Power.Factor/L{i}"] = 1.0
    return values


class SiteModel:
    """Thread-safe: the bench API sets it from the event loop, the emulator reads it."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._guard = threading.Lock()
        self._live: SiteMoment | None = None
        self._scenario: Scenario | None = None
        self._speed = 1.0
        self._origin = (0.0, 0.0)
        self._import_wh = 0.0
        self._import_at: float | None = None

    @property
    def active(self) -> bool:
        """Whether there is a site at all: before one is set, the grid meter is absent."""
        with self._guard:
            return self._live is not None or self._scenario is not None

    def set_live(self, house_a: Sequence[float] | None, pv_w: float | None) -> None:
        """Stops a playing scenario; an unset part keeps its value now. Raises ValueError
        naming the value out of range, and nothing changes then."""
        if house_a is not None:
            if len(house_a) != 3:
                raise ValueError(f"house_a must have 3 phases, got {len(house_a)}")
            for value in house_a:
                if not (math.isfinite(value) and 0 <= value <= MAX_HOUSE_A):
                    raise ValueError(f"house_a must be 0..{MAX_HOUSE_A:g} A, got {value}")
        if pv_w is not None and not (math.isfinite(pv_w) and 0 <= pv_w <= MAX_PV_W):
            raise ValueError(f"pv_w must be 0..{MAX_PV_W:g} W, got {pv_w}")
        with self._guard:
            now = self._moment_locked()
            house = now.house_a if house_a is None else (house_a[0], house_a[1], house_a[2])
            self._live = SiteMoment(house, now.pv_w if pv_w is None else pv_w)
            self._scenario = None

    def play(self, scenario: Scenario, speed: float, start_s: float = 0.0) -> None:
        """Scenario time runs `speed` times faster than the monotonic clock from `start_s`."""
        if not (math.isfinite(speed) and 0 < speed <= 10_000):
            raise ValueError(f"speed must be a number above 0, at most 10000, got {speed}")
        if not (math.isfinite(start_s) and 0 <= start_s <= scenario.duration_s):
            raise ValueError(f"start_s must be 0..{scenario.duration_s:g}, got {start_s}")
        with self._guard:
            self._scenario, self._speed, self._live = scenario, speed, None
            self._origin = (self._monotonic(), start_s)

    def moment(self) -> SiteMoment:
        with self._guard:
            return self._moment_locked()

    def _moment_locked(self) -> SiteMoment:
        if self._scenario is not None:
            return self._scenario.at(self._scenario_s())
        return self._live or SiteMoment((0.0, 0.0, 0.0), 0.0)

    def _scenario_s(self) -> float:
        assert self._scenario is not None
        at, start = self._origin
        played = start + (self._monotonic() - at) * self._speed
        return played % self._scenario.duration_s if self._scenario.duration_s else 0.0

    def meter_values(
        self, ev_a: Sequence[float], voltage_v: float, frequency_hz: float
    ) -> dict[str, float]:
        """The grid meter's reading, its import register integrated since the last one."""
        values = grid_values(self.moment(), ev_a, voltage_v, frequency_hz)
        with self._guard:
            now = self._monotonic()
            if self._import_at is not None:
                power = max(0.0, values["Power.Active.Import"])
                self._import_wh += power * (now - self._import_at) / 3600.0
            self._import_at = now
            values["Energy.Active.Import.Register"] = self._import_wh
        return values

    def describe(self) -> dict[str, Any]:
        with self._guard:
            moment = self._moment_locked()
            scenario = self._scenario
            return {
                "active": self._live is not None or scenario is not None,
                "house_a": list(moment.house_a),
                "pv_w": moment.pv_w,
                "scenario": None if scenario is None else scenario.name,
                "speed": None if scenario is None else self._speed,
                "at_s": None if scenario is None else round(self._scenario_s(), 1),
            }


class SiteGridSource:
    """A meter emulator's source for the grid meter of `site`, with the load another source
    (the charger's meter) shows drawn on top: absent (an exception reply) until the site
    has a house, PV or a scenario."""

    def __init__(self, site: SiteModel, charger: MeterSource) -> None:
        self._site = site
        self._charger = charger

    def values(self) -> dict[str, float]:
        ev = self._charger.values()
        ev_a = [ev.get(f"Current.Import/L{i}", 0.0) for i in (1, 2, 3)]
        voltage = ev.get("Voltage/L1-N") or 230.0
        return self._site.meter_values(ev_a, voltage, ev.get("Frequency") or 50.0)

    def fault(self) -> str | None:
        return None if self._site.active else "exception"


SITE_FIELDS = ("house_a", "pv_w", "scenario", "speed", "at_s")


def apply_request(site: SiteModel, body: Mapping[str, Any]) -> None:
    """A bench's request, as JSON gives it: `{"house_a"?, "pv_w"?}` live, or `{"scenario",
    "speed"?, "at_s"?}`. Raises ValueError naming what is wrong; nothing changes then."""
    unknown = sorted(set(body) - set(SITE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; allowed: {', '.join(SITE_FIELDS)}")
    for name in ("pv_w", "speed", "at_s"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
    scenario = body.get("scenario")
    if scenario is not None:
        if not isinstance(scenario, str) or not scenario:
            raise ValueError(f"scenario must be a scenario's name, got {scenario!r}")
        if "house_a" in body or "pv_w" in body:
            raise ValueError("scenario plays the house and PV: give it alone, or them live")
        speed, at_s = body.get("speed"), body.get("at_s")
        site.play(
            Scenario.named(scenario),
            60.0 if speed is None else float(speed),
            0.0 if at_s is None else float(at_s),
        )
        return
    house = body.get("house_a")
    if house is not None and (
        not isinstance(house, list)
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in house)
    ):
        raise ValueError(f"house_a must be a list of 3 numbers (A per phase), got {house!r}")
    pv_w = body.get("pv_w")
    if house is None and pv_w is None:
        raise ValueError("give house_a, pv_w or a scenario")
    site.set_live(None if house is None else [float(v) for v in house], pv_w)
