"""The inputs each control step checks before it decides: the pilot's level and diode, the
enclosure and outlet temperatures, the cable's rating. Each trips its fault, or clears it
when the input is back in range."""

from __future__ import annotations

from pievse.firmware.control.faults import Fault
from pievse.firmware.control.iec61851 import CONNECTED
from pievse.firmware.control.safety import SafetySupervisor
from pievse.hal.interfaces import Board, CableFault, PilotSample, PilotState


class InputChecks:
    def __init__(self, board: Board, supervisor: SafetySupervisor) -> None:
        self._board = board
        self._supervisor = supervisor
        self.enclosure_c = board.thermometer.read_c()
        self.outlet_c = board.outlet_thermometer.read_c() if board.outlet_thermometer else None
        self.cable_rating_a: float | None = None
        self._held_f = False

    def pilot(self, sample: PilotSample) -> None:
        """State F the box drives itself is no pilot error, nor is it in the first step after
        the box let go of it (a peak-hold front end may still show the last -12 V)."""
        faults = self._supervisor.faults()
        holding_now = self._supervisor.holding_pilot_f
        holding_f = holding_now or self._held_f
        self._held_f = holding_now
        if sample.state in (PilotState.E, PilotState.F) and not holding_f:
            self._supervisor.trip(Fault.PILOT_ERROR, f"pilot reads state {sample.state}")
        elif Fault.PILOT_ERROR in faults and sample.state not in (PilotState.E, PilotState.F):
            self._supervisor.clear(Fault.PILOT_ERROR)
        if not sample.diode_ok:
            self._supervisor.trip(
                Fault.DIODE, f"pilot low level {sample.low_v:.1f} V, expected -12 V (EV diode)"
            )

    def temperatures(self) -> None:
        """Either sensor past its trip point trips; both must be below resume to clear."""
        enclosure = self._board.thermometer
        outlet = self._board.outlet_thermometer
        self.enclosure_c = enclosure.read_c()
        readings = [("enclosure", enclosure, self.enclosure_c)]
        if outlet is not None:
            self.outlet_c = outlet.read_c()
            readings.append(("outlet", outlet, self.outlet_c))
        hot = [(where, c) for where, sensor, c in readings if c >= sensor.trip_c]
        if hot:
            where, celsius = hot[0]
            self._supervisor.trip(Fault.OVERTEMPERATURE, f"{where} at {celsius:.1f} degC")
        elif Fault.OVERTEMPERATURE in self._supervisor.faults() and all(
            c < sensor.resume_c and not sensor.alert_active() for _, sensor, c in readings
        ):
            self._supervisor.clear(Fault.OVERTEMPERATURE)

    def cable(self, sample: PilotSample) -> None:
        cable = self._board.cable
        if cable is None:
            return
        try:
            self.cable_rating_a = cable.rating_a()
        except CableFault as exc:
            self.cable_rating_a = None
            if sample.state in CONNECTED:
                self._supervisor.trip(Fault.CABLE, str(exc))
            return
        self._supervisor.clear(Fault.CABLE)

    @property
    def temperatures_c(self) -> dict[str, float]:
        """By OCPP location: Body (the enclosure) and, where fitted, Outlet."""
        found = {"Body": self.enclosure_c}
        if self.outlet_c is not None:
            found["Outlet"] = self.outlet_c
        return found
