"""The hard logic as pure functions: duty cycle, arbitration, derating, PP bands, status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pievse.firmware.control.connector_status import StatusInputs, box_status, connector_status
from pievse.firmware.control.derating import thermal_limit_a
from pievse.firmware.control.duty_cycle import current_for_duty, duty_percent
from pievse.firmware.control.faults import Fault
from pievse.firmware.control.limits import Limit, LimitSources, arbitrate
from pievse.firmware.csms.meter_values import Reading, deliverable_measurands, sampled_values
from pievse.firmware.csms.transaction_reporter import next_aligned
from pievse.hal.devices.cable import rating_from_resistance
from pievse.hal.devices.pilot import state_from_high_level
from pievse.hal.interfaces import CableFault, Measurements, PilotState
from pievse.hal.sim.pilot_circuit import ev_offered_current_a


@pytest.mark.parametrize(
    ("amps", "duty"),
    [
        (6.0, 10.0),
        (10.0, 16.6667),
        (16.0, 26.6667),
        (32.0, 53.3333),
        (51.0, 85.0),
        (51.5, 84.6),
        (63.0, 89.2),
        (80.0, 96.0),
        (100.0, 96.0),
    ],
)
def test_duty_cycle_formula_at_its_boundaries(amps: float, duty: float) -> None:
    assert duty_percent(amps) == pytest.approx(duty, abs=1e-3)


@pytest.mark.parametrize("amps", [5.99, 0.0, -3.0])
def test_below_six_amps_the_pilot_stops_oscillating(amps: float) -> None:
    assert duty_percent(amps) is None


@given(st.floats(min_value=6.0, max_value=80.0))
def test_duty_never_below_ten_percent_and_the_ev_never_reads_more(amps: float) -> None:
    duty = duty_percent(amps)
    assert duty is not None
    assert 10.0 <= duty <= 96.0
    # Between 51 and 52.5 A the two formulas of the standard overlap: the EV reads up to
    # 1.5 A less (84.x % decodes with the lower formula), never more.
    for read_back in (current_for_duty(duty), ev_offered_current_a(duty / 100)):
        assert amps - 1.5 <= read_back <= amps + 1e-9


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=8))
def test_arbitration_takes_the_lowest(values: list[float]) -> None:
    limits = [Limit(f"s{i}", v) for i, v in enumerate(values)]
    winner = arbitrate(limits)
    assert winner.current_a == min(values)
    assert winner == limits[values.index(min(values))]


def test_limit_sources_ignore_none_and_refuse_duplicates() -> None:
    sources = LimitSources(lambda: 0.0)
    sources.register("profile", lambda _now: None)
    sources.register("site", lambda _now: 20.0)
    with pytest.raises(ValueError, match="registered twice"):
        sources.register("site", lambda _now: 1.0)
    from datetime import UTC, datetime

    assert sources.collect(datetime.now(UTC)) == [Limit("site", 20.0)]


@pytest.mark.parametrize(
    ("temperature", "limit"),
    [(25.0, None), (59.9, None), (60.0, 16.0), (69.9, 16.0), (70.0, 10.0), (95.0, 10.0)],
)
def test_derating_steps(temperature: float, limit: float | None) -> None:
    assert thermal_limit_a(temperature, [(60.0, 16.0), (70.0, 10.0)]) == limit


@pytest.mark.parametrize(
    ("ohm", "rating"),
    [(100, 63.0), (220, 32.0), (680, 20.0), (1500, 13.0), (20_000, None), (float("inf"), None)],
)
def test_proximity_resistor_bands(ohm: float, rating: float | None) -> None:
    assert rating_from_resistance(ohm) == rating


@pytest.mark.parametrize("ohm", [0.0, 30.0, 4000.0])
def test_proximity_resistor_out_of_range_is_a_fault(ohm: float) -> None:
    with pytest.raises(CableFault):
        rating_from_resistance(ohm)


@pytest.mark.parametrize(
    ("volts", "state"),
    [
        (12.0, "A"),
        (11.0, "A"),
        (9.0, "B"),
        (8.0, "B"),
        (6.0, "C"),
        (5.0, "C"),
        (3.0, "D"),
        (2.0, "D"),
        (0.0, "E"),
        (-5.6, "E"),
        (-12.0, "F"),
        (-11.0, "F"),
    ],
)
def test_pilot_state_from_high_level(volts: float, state: str) -> None:
    assert state_from_high_level(volts) == PilotState(state)


def _inputs(**changes: object) -> StatusInputs:
    base: dict[str, object] = dict(
        pilot_state=PilotState.C,
        in_session=True,
        finishing=False,
        pwm_active=True,
        contactor_closed=True,
        faults=frozenset(),
        meter_flagged=False,
    )
    base.update(changes)
    return StatusInputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Charging"),
        ({"pilot_state": PilotState.A, "in_session": False}, "Available"),
        ({"pilot_state": PilotState.A}, "SuspendedEV"),  # StopTransactionOnEVSideDisconnect off
        ({"pilot_state": PilotState.A, "in_session": False, "awaiting_ev": True}, "Preparing"),
        ({"in_session": False, "connector_operative": False}, "Unavailable"),
        ({"in_session": False, "box_operative": False}, "Unavailable"),
        ({"connector_operative": False}, "Charging"),  # Scheduled: applies after the session
        ({"faults": frozenset({Fault.LOCK}), "connector_operative": False}, "Faulted"),
        ({"in_session": False, "pilot_state": PilotState.B}, "Preparing"),
        ({"pwm_active": False}, "SuspendedEVSE"),
        ({"pilot_state": PilotState.B, "contactor_closed": False}, "SuspendedEV"),
        ({"finishing": True, "in_session": False}, "Finishing"),
        ({"faults": frozenset({Fault.RCD})}, "Faulted"),
        ({"faults": frozenset({Fault.OVERTEMPERATURE})}, "Charging"),
    ],
)
def test_connector_status_table(changes: dict[str, object], expected: str) -> None:
    assert connector_status(_inputs(**changes)).status == expected


def test_worst_fault_wins_and_box_faults_go_to_connector_zero() -> None:
    both = _inputs(faults=frozenset({Fault.METER_OFFLINE, Fault.CONTACTOR_WELD}))
    assert connector_status(both).error_code == "PowerSwitchFailure"
    hot = _inputs(faults=frozenset({Fault.OVERTEMPERATURE}))
    assert box_status(hot).error_code == "HighTemperature"
    assert box_status(both).status == "Available"
    flagged = connector_status(_inputs(meter_flagged=True))
    assert (flagged.status, flagged.error_code) == ("Charging", "PowerMeterFailure")


@pytest.mark.parametrize(
    ("now", "interval", "expected"),
    [
        ("2026-03-01T10:07:12.500", 900, "2026-03-01T10:15:00"),
        ("2026-03-01T10:15:00.000", 900, "2026-03-01T10:30:00"),  # on a boundary: the next
        ("2026-03-01T23:59:59.999", 900, "2026-03-02T00:00:00"),
        ("2026-03-01T23:59:58.000", 7, "2026-03-02T00:00:00"),  # 7 s does not divide the day
        ("2026-03-02T00:00:00.000", 7, "2026-03-02T00:00:07"),
        ("2026-03-01T12:00:00.000", 86_400, "2026-03-02T00:00:00"),
    ],
)
def test_clock_aligned_instants_restart_at_midnight_utc(
    now: str, interval: int, expected: str
) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert next_aligned(moment, interval) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def _measured(currents: tuple, volts: tuple, energy: float | None = 1000.0) -> Measurements:
    return Measurements(
        timestamp=datetime(2026, 3, 1, tzinfo=UTC),
        voltage_v=volts,
        current_a=currents,
        power_phase_w=(None, None, None),
        power_factor_phase=(None, None, None),
        power_w=None,
        power_factor=None,
        frequency_hz=None,
        energy_import_wh=energy,
    )


@pytest.mark.parametrize(
    ("measured", "expected_w"),
    [
        (None, 16 * 230 * 3),  # no meter reading: nominal voltage, the board's phases
        (_measured((0.0, 0.0, 0.0), (231.0, 229.0, 230.0)), 16 * 230 * 3),  # not drawing yet
        (_measured((15.8, 0.2, 0.0), (231.0, 229.0, 230.0)), 16 * 231 * 1),  # one phase in use
        (_measured((16.0, 16.0, 0.0), (232.0, 228.0, 230.0)), 16 * 230 * 2),
        (_measured((16.0, 0.0, 0.0), (None, None, None)), 16 * 230 * 1),  # no voltage register
    ],
)
def test_power_offered_is_offer_times_voltage_times_phases_in_use(
    measured: Measurements | None, expected_w: float
) -> None:
    reading = Reading(measured, 16.0, 3, 230.0)
    [value] = sampled_values(["Power.Offered"], reading, "Trigger")
    assert float(value["value"]) == pytest.approx(expected_w)


def test_energy_interval_needs_a_start_and_never_goes_negative() -> None:
    m = _measured((0.0, 0.0, 0.0), (230.0, 230.0, 230.0), energy=1500.0)
    assert sampled_values(["Energy.Active.Import.Interval"], Reading(m, 0, 3, 230), "x") == []
    with_start = Reading(m, 0, 3, 230, interval_start_wh=1200.0)
    [value] = sampled_values(["Energy.Active.Import.Interval"], with_start, "x")
    assert value["value"] == "300"
    replaced_meter = Reading(m, 0, 3, 230, interval_start_wh=9000.0)
    [value] = sampled_values(["Energy.Active.Import.Interval"], replaced_meter, "x")
    assert value["value"] == "0"


def test_deliverable_measurands_follow_the_meter_and_the_ev_interface() -> None:
    single = deliverable_measurands({"Energy.Active.Import.Register", "Current.Import"}, False)
    assert single == {
        "Energy.Active.Import.Register",
        "Energy.Active.Import.Interval",
        "Current.Import",
        "Current.Offered",
        "Power.Offered",
        "Temperature",
    }
    assert "SoC" in deliverable_measurands(set(), True)
    assert "Frequency" not in deliverable_measurands(set(), True)
