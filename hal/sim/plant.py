"""The plant: a simulated EV, cable, contactor, RCD, enclosure and grid behind the ports.

It models electrical levels (pilot voltages and PP divider volts from `pilot_circuit`;
sensor volts), not controller states, so that the real device code decides pilot states,
cable ratings and faults on the bench exactly as it would on a Pi; the EV's state outlives
a restart in `ev_state_file`. Thread-safe: a bench may poke it from another thread, as a
GPIO interrupt thread would on real hardware. Edge listeners run outside the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pievse.hal.interfaces import BENCH_FAULTS
from pievse.hal.sim.ev_state_file import SavedEv, load_ev, save_ev
from pievse.hal.sim.pilot_circuit import EV_STATES, ev_offered_current_a, pilot_levels, pp_volts
from pievse.hal.sim.scenario import Scenario
from pievse.hal.sim.site import SiteModel, apply_request

DIGITAL_INPUTS = (
    "contactor_mirror",
    "phase_mirror",
    "rcd_trip",
    "overtemp_alert",
    "lock_feedback",
    "pilot_alert",
    "tamper",
)
DIGITAL_OUTPUTS = (
    "contactor_coil",
    "phase_coil",
    "rcd_test",
    "lock_actuator",
    "led_red",
    "led_green",
    "led_blue",
)
ANALOG_INPUTS = ("pilot_high", "pilot_low", "pp", "enclosure_temp", "outlet_temp")


@dataclass(frozen=True)
class PlantSettings:
    phases: int = 3
    nominal_voltage_v: float = 230.0
    grid_frequency_hz: float = 50.0
    ev_max_current_a: float = 32.0
    ev_phases: int = 3
    ev_ignores_phase_switch: bool = False
    """The EV keeps the phases it found at the first draw of a plug-in (some onboard
    chargers do not re-detect their supply)."""
    phase_switched: bool = False
    """The board has a phase contactor: L2 and L3 are live only while its coil is on."""
    ev_battery_wh: float = 60_000.0
    ev_soc_percent: float = 20.0
    cable_rating_a: float = 32.0
    pp_pull_up_ohm: float = 1000.0
    pp_supply_v: float = 5.0
    ambient_c: float = 25.0
    overtemperature_c: float = 90.0
    sensor_alert_c: float = 80.0
    sensor_clear_c: float = 70.0
    sensor_offset_v: float = 0.5
    sensor_volts_per_c: float = 0.01
    outlet_rise_c_per_a2: float = 0.01
    """Outlet contacts warm with the square of the current: +10 degC at 32 A."""
    scenario: str = ""
    """A scenario day (bundled name or CSV path) the site plays from the start; empty: no
    site until the bench sets one (its grid meter answers with an exception until then)."""
    scenario_speed: float = 60.0
    state_file: str = ""
    """Where the EV's state is kept (a file in the data directory), so that, as with a real
    car, a restarted or killed controller finds the EV still plugged in; empty: nowhere."""


class Plant:
    def __init__(
        self,
        settings: PlantSettings,
        monotonic: Callable[[], float] = time.monotonic,
        state_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self._state_file = state_file
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._listeners: dict[str, list[Callable[[bool], None]]] = {n: [] for n in DIGITAL_INPUTS}
        self._probes: list[Callable[[str, float], None]] = []
        self._tag_sinks: list[Callable[[bytes], None]] = []
        self._outputs = dict.fromkeys(DIGITAL_OUTPUTS, False)
        self._duty = 1.0
        self.ev_state = "A"
        self.ev_max_current_a = settings.ev_max_current_a
        self.ev_phases = settings.ev_phases
        self.ev_ignores_phase_switch = settings.ev_ignores_phase_switch
        self._ev_sensed_phases: int | None = None
        self.ev_soc_percent = settings.ev_soc_percent
        self.ev_overdraw_a = 0.0
        self.temperature_c = settings.ambient_c
        self.faults = dict.fromkeys(BENCH_FAULTS, False)
        self.energy_wh = 0.0
        self.site = SiteModel(monotonic)
        if settings.scenario:
            self.site.play(Scenario.named(settings.scenario), settings.scenario_speed)
        self._load_ev_state()
        self._alert_latched = False
        self._pilot_alert = False
        self._last_advance = monotonic()
        self._last_pilot_levels = self._pilot_levels()
        self._inputs = self._compute_inputs()

    # --- controller side (ports) -------------------------------------------------------

    def set_output(self, signal: str, level: bool) -> None:
        self._mutate(lambda: self._outputs.__setitem__(signal, level))
        for probe in self._probes:
            probe(signal, float(level))

    def probe_outputs(self, probe: Callable[[str, float], None]) -> None:
        """A scope probe on every output the controller drives (for benchmarks)."""
        self._probes.append(probe)

    def output(self, signal: str) -> bool:
        with self._lock:
            return self._outputs[signal]

    def set_pilot_duty(self, duty_fraction: float) -> None:
        self._mutate(lambda: setattr(self, "_duty", duty_fraction))
        for probe in self._probes:
            probe("pilot", duty_fraction)

    def read_input(self, signal: str) -> bool:
        with self._lock:
            return self._inputs[signal]

    def watch(self, signal: str, listener: Callable[[bool], None]) -> None:
        with self._lock:
            self._listeners[signal].append(listener)

    def add_tag_sink(self, sink: Callable[[bytes], None]) -> None:
        self._tag_sinks.append(sink)

    def read_analog(self, signal: str) -> float:
        with self._lock:
            self._advance()
            if signal in ("pilot_high", "pilot_low"):
                high, low = self._pilot_levels()
                return high if signal == "pilot_high" else low
            if signal == "pp":
                return self._pp_volts()
            celsius = self.temperature_c
            if signal == "outlet_temp":
                celsius += self.settings.outlet_rise_c_per_a2 * max(self._phase_currents()) ** 2
            return self.settings.sensor_offset_v + self.settings.sensor_volts_per_c * celsius

    def meter_values(self) -> dict[str, float]:
        """What an ideal meter at the box's supply would read now; raises when offline."""
        with self._lock:
            if self.faults["meter_offline"]:
                raise TimeoutError("simulated meter does not answer")
            self._advance()
            currents = self._phase_currents()
            volts = self.settings.nominal_voltage_v
            power_factor = 0.99 if any(currents) else 1.0
            values = {
                "Power.Active.Import": sum(currents) * volts * power_factor,
                "Power.Factor": power_factor,
                "Frequency": self.settings.grid_frequency_hz,
                "Energy.Active.Import.Register": self.energy_wh,
            }
            for i in range(3):
                present = i < self.settings.phases
                values[f"Voltage/L{i + 1}-N"] = volts if present else 0.0
                values[f"Current.Import/L{i + 1}"] = currents[i]
                values[f"Power.Active.Import/L{i + 1}"] = currents[i] * volts * power_factor
                values[f"Power.Factor/L{i + 1}"] = power_factor if currents[i] else 1.0
            return values

    def grid_meter_values(self) -> dict[str, float]:
        """What a meter at the site's grid connection reads: house, PV and this EV."""
        with self._lock:
            self._advance()
            currents = self._phase_currents()
        s = self.settings
        return self.site.meter_values(currents, s.nominal_voltage_v, s.grid_frequency_hz)

    def set_site(self, request: dict[str, Any]) -> None:
        """A bench's site request (`hal.sim.site.apply_request`): live house load and PV, or
        a scenario played at a speed; ValueError, and nothing changed, on bad values."""
        apply_request(self.site, request)

    def site_status(self) -> dict[str, object]:
        return self.site.describe()

    def meter_fault(self) -> str | None:
        """The emulated meter's fault (hal.sim.meter_emulator names) for a bench fault."""
        with self._lock:
            if self.faults["meter_exception"]:
                return "exception"
            if self.faults["meter_implausible"]:
                return "nan"
            if self.faults["meter_jump"]:
                return "jump"
            return None

    # --- bench side (BenchControl) -------------------------------------------------------

    def set_ev(
        self,
        state: str,
        max_current_a: float | None,
        phases: int | None,
        ignores_phase_switch: bool | None = None,
    ) -> None:
        if state not in EV_STATES:
            raise ValueError(f"EV state must be one of {', '.join(EV_STATES)}, got {state!r}")
        if phases is not None and phases not in (1, 3):
            raise ValueError(f"EV phases must be 1 or 3, got {phases}")
        if max_current_a is not None and not 0 <= max_current_a <= 80:
            raise ValueError(f"EV max_current_a must be 0..80, got {max_current_a}")

        def change() -> None:
            self.ev_state = state
            if max_current_a is not None:
                self.ev_max_current_a = max_current_a
            if phases is not None:
                self.ev_phases = phases
            if ignores_phase_switch is not None:
                self.ev_ignores_phase_switch = ignores_phase_switch
            if state == "A":
                self._ev_sensed_phases = None
            self._save_ev_state()

        self._mutate(change)

    def ev_soc_reported(self) -> float | None:
        """The bench EV tells its battery level while plugged in (as ISO 15118 would)."""
        with self._lock:
            self._advance()
            return None if self.ev_state in ("A", "E", "F") else self.ev_soc_percent

    def reader_failed(self) -> bool:
        with self._lock:
            return self.faults["reader"]

    def present_tag(self, id_tag: str) -> None:
        for sink in list(self._tag_sinks):
            sink(id_tag.encode("ascii", "replace") + b"\n")

    def set_fault(self, fault: str, active: bool) -> None:
        if fault not in BENCH_FAULTS:
            raise ValueError(f"fault must be one of {', '.join(BENCH_FAULTS)}, got {fault!r}")

        def change() -> None:
            self.faults[fault] = active
            if fault == "overtemperature":
                s = self.settings
                self.temperature_c = s.overtemperature_c if active else s.ambient_c

        self._mutate(change)
        if fault == "reader":
            for sink in list(self._tag_sinks):
                sink(b"")

    def set_temperature(self, celsius: float) -> None:
        self._mutate(lambda: setattr(self, "temperature_c", celsius))

    def set_overdraw(self, extra_a: float) -> None:
        """An EV that ignores the pilot and draws `extra_a` more than it was offered."""
        self._mutate(lambda: setattr(self, "ev_overdraw_a", extra_a))

    def ev_status(self) -> dict[str, object]:
        with self._lock:
            self._advance()
            return {
                "state": self.ev_state,
                "max_current_a": self.ev_max_current_a,
                "phases": self.ev_phases,
                "ignores_phase_switch": self.ev_ignores_phase_switch,
                "supply_phases": self._supplied_phases(),
                "soc_percent": round(self.ev_soc_percent, 2),
                "current_a": [round(c, 3) for c in self._phase_currents()],
                "temperature_c": self.temperature_c,
                "faults": [name for name, on in self.faults.items() if on],
            }

    # --- physics ------------------------------------------------------------------------

    def _mutate(self, change: Callable[[], None]) -> None:
        with self._lock:
            self._advance()
            change()
            fired = self._refresh_inputs()
        for listener, level in fired:
            listener(level)

    def _refresh_inputs(self) -> list[tuple[Callable[[bool], None], bool]]:
        before = self._inputs
        levels = self._pilot_levels()
        if levels != self._last_pilot_levels:
            self._last_pilot_levels = levels
            self._pilot_alert = not self._pilot_alert
        after = self._compute_inputs()
        self._inputs = after
        return [
            (listener, after[name])
            for name in DIGITAL_INPUTS
            if after[name] != before[name]
            for listener in self._listeners[name]
        ]

    def _compute_inputs(self) -> dict[str, bool]:
        s = self.settings
        if self.temperature_c >= s.sensor_alert_c:
            self._alert_latched = True
        elif self.temperature_c < s.sensor_clear_c:
            self._alert_latched = False
        return {
            "contactor_mirror": self._contacts_closed(),
            "phase_mirror": self._phase_contacts_closed(),
            "rcd_trip": self.faults["rcd"] or self._outputs["rcd_test"],
            "overtemp_alert": self._alert_latched,
            # A socket's lock pin moves with or without a plug (commissioning tests it empty).
            "lock_feedback": self._outputs["lock_actuator"] and not self.faults["lock"],
            "pilot_alert": self._pilot_alert,
            "tamper": self.faults["tamper"],
        }

    def _contacts_closed(self) -> bool:
        pulled_in = self._outputs["contactor_coil"] and not self.faults["contactor_stuck_open"]
        return pulled_in or self.faults["contactor_weld"]

    def _phase_contacts_closed(self) -> bool:
        pulled_in = self._outputs["phase_coil"] and not self.faults["phase_contactor_stuck_open"]
        return pulled_in or self.faults["phase_contactor_weld"]

    def _supplied_phases(self) -> int:
        if not self.settings.phase_switched:
            return self.settings.phases
        return 3 if self._phase_contacts_closed() else 1

    def _pilot_levels(self) -> tuple[float, float]:
        return pilot_levels(self.ev_state, self._duty, self.faults["diode"])

    def _pp_volts(self) -> float:
        s = self.settings
        return pp_volts(self.ev_state != "A", s.cable_rating_a, s.pp_supply_v, s.pp_pull_up_ohm)

    def _phase_currents(self) -> list[float]:
        drawing = self._contacts_closed() and self.ev_state in ("C", "D")
        if not drawing or not 0.0 < self._duty < 1.0:
            return [0.0, 0.0, 0.0]
        per_phase = (
            min(ev_offered_current_a(self._duty), self.ev_max_current_a) + self.ev_overdraw_a
        )
        supplied = self._supplied_phases()
        in_use = min(self.ev_phases, supplied)
        if self.ev_ignores_phase_switch:
            if self._ev_sensed_phases is None:
                self._ev_sensed_phases = in_use
            in_use = min(self._ev_sensed_phases, supplied)
        return [per_phase if i < in_use else 0.0 for i in range(3)]

    def _advance(self) -> None:
        now = self._monotonic()
        dt = now - self._last_advance
        self._last_advance = now
        if dt <= 0:
            return
        watts = sum(self._phase_currents()) * self.settings.nominal_voltage_v * 0.99
        wh = watts * dt / 3600.0
        if wh <= 0:
            return
        self.energy_wh += wh
        soc = self.ev_soc_percent + 100.0 * wh / self.settings.ev_battery_wh
        self.ev_soc_percent = min(100.0, soc)
        if self.ev_soc_percent >= 100.0 and self.ev_state != "B":
            self.ev_state = "B"  # a full EV stops requesting energy
            self._save_ev_state()

    # --- the EV across restarts ---------------------------------------------------------

    def _load_ev_state(self) -> None:
        saved = load_ev(self._state_file)
        if saved is not None:
            self.ev_state, self.ev_max_current_a = saved.state, saved.max_current_a
            self.ev_phases, self.ev_soc_percent = saved.phases, saved.soc_percent

    def _save_ev_state(self) -> None:
        ev = SavedEv(
            self.ev_state, self.ev_max_current_a, self.ev_phases, round(self.ev_soc_percent, 3)
        )
        save_ev(self._state_file, ev)
