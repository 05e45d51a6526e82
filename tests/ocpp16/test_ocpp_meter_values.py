"""Every meter-value path and context on the wire, against the CSMS on loopback.

The bench-sim EV draws what the pilot offers on its phases, the plant integrates the
energy, the meter emulator serves it over Modbus TCP and the real driver reads it; the
values checked here travelled that whole way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from pievse.firmware.csms.meter_values import MEASURANDS
from tests.conftest import BenchClient, charge_under_csms, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.paths import BENCH_SIM

ALL = ",".join(MEASURANDS)


def _by_measurand(meter_value: dict[str, Any]) -> dict[tuple[str, str | None, str], dict]:
    return {
        (v["measurand"], v.get("phase"), v["location"]): v for v in meter_value["sampled_value"]
    }


async def test_sampled_values_carry_every_measurand_with_unit_phase_and_location(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.configure(MeterValuesSampledData=ALL, MeterValueSampleInterval="1")
    start = await charge_under_csms(box, csms)
    periodic = await csms.wait_for(
        "MeterValues",
        lambda p: p["meter_value"][0]["sampled_value"][0]["context"] == "Sample.Periodic",
    )
    assert periodic["transaction_id"] == 1001
    values = _by_measurand(periodic["meter_value"][0])
    expected_units = {
        ("Energy.Active.Import.Register", None, "Outlet"): "Wh",
        ("Energy.Active.Import.Interval", None, "Outlet"): "Wh",
        ("Power.Active.Import", None, "Outlet"): "W",
        ("Current.Import", "L1", "Outlet"): "A",
        ("Current.Import", "L2", "Outlet"): "A",
        ("Current.Import", "L3", "Outlet"): "A",
        ("Voltage", "L1-N", "Outlet"): "V",
        ("Voltage", "L2-N", "Outlet"): "V",
        ("Voltage", "L3-N", "Outlet"): "V",
        ("Frequency", None, "Outlet"): None,
        ("Power.Factor", None, "Outlet"): None,
        ("Current.Offered", None, "Outlet"): "A",
        ("Power.Offered", None, "Outlet"): "W",
        ("Temperature", None, "Body"): "Celsius",
        ("Temperature", None, "Outlet"): "Celsius",
        ("SoC", None, "EV"): "Percent",
    }
    assert {k: v.get("unit") for k, v in values.items()} == expected_units
    number = {k: float(v["value"]) for k, v in values.items()}
    assert number[("Current.Import", "L1", "Outlet")] == pytest.approx(32.0)
    assert number[("Voltage", "L2-N", "Outlet")] == pytest.approx(230.0)
    assert number[("Frequency", None, "Outlet")] == pytest.approx(50.0)
    assert number[("Current.Offered", None, "Outlet")] == pytest.approx(32.0)
    assert number[("Power.Offered", None, "Outlet")] == pytest.approx(32 * 230 * 3)
    assert number[("Temperature", None, "Body")] == pytest.approx(25.0)
    assert number[("Temperature", None, "Outlet")] == pytest.approx(25.0 + 0.01 * 32**2)
    assert 20.0 <= number[("SoC", None, "EV")] <= 21.0
    register = number[("Energy.Active.Import.Register", None, "Outlet")]
    interval = number[("Energy.Active.Import.Interval", None, "Outlet")]
    assert interval > 0, "about one second at 22 kW"
    assert register - start["meter_start"] == pytest.approx(interval, abs=1.0)


async def test_power_offered_counts_the_phases_the_ev_draws_on(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.configure(MeterValuesSampledData="Power.Offered,Current.Import")
    await box.bench("ev", state="C", phases=1, max_current_a=16)
    await charge_under_csms(box, csms)
    await box.wait_for(lambda s: s["meter"]["current_a"][0] == pytest.approx(16.0))
    answer = await csms.call(call.TriggerMessage(requested_message="MeterValues"))
    assert answer.status == "Accepted"
    triggered = await csms.wait_for(
        "MeterValues", lambda p: p["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
    )
    values = _by_measurand(triggered["meter_value"][0])
    offered = float(values[("Power.Offered", None, "Outlet")]["value"])
    assert offered == pytest.approx(32 * 230), values
    assert ("Current.Import", "L2", "Outlet") in values, "per phase, 0 A included"
    assert triggered["transaction_id"] == 1001


async def test_transaction_begin_and_end_and_stop_transaction_data(
    box: BenchClient, csms: TestCsms
) -> None:
    await csms.configure(
        MeterValueSampleInterval="1",
        MeterValuesSampledData="Energy.Active.Import.Register,Energy.Active.Import.Interval",
        StopTxnSampledData="Energy.Active.Import.Register,Energy.Active.Import.Interval",
        StopTxnAlignedData="Energy.Active.Import.Register",
        ClockAlignedDataInterval="1",
    )
    start = await charge_under_csms(box, csms)
    begin = await csms.wait_for(
        "MeterValues",
        lambda p: p["meter_value"][0]["sampled_value"][0]["context"] == "Transaction.Begin",
    )
    assert begin["transaction_id"] == 1001
    begin_values = _by_measurand(begin["meter_value"][0])
    assert set(begin_values) == {("Energy.Active.Import.Register", None, "Outlet")}
    for context in ("Sample.Periodic", "Sample.Clock"):
        await csms.wait_for(
            "MeterValues",
            lambda p, c=context: (
                p["meter_value"][0]["sampled_value"][0]["context"] == c
                and p.get("transaction_id") == 1001
            ),
        )
    await box.bench("ev", state="A")
    stop = await csms.wait_for("StopTransaction")
    data = stop["transaction_data"]
    contexts = [v["sampled_value"][0]["context"] for v in data]
    assert contexts[0] == "Transaction.Begin"
    assert contexts[-1] == "Transaction.End"
    assert "Sample.Periodic" in contexts
    assert "Sample.Clock" in contexts
    end = _by_measurand(data[-1])
    assert float(end[("Energy.Active.Import.Register", None, "Outlet")]["value"]) == pytest.approx(
        stop["meter_stop"], abs=0.5
    )
    registers = [
        float(v["value"])
        for d in data
        for v in d["sampled_value"]
        if v["measurand"] == "Energy.Active.Import.Register" and v["context"] != "Sample.Clock"
    ]
    intervals = [
        float(v["value"])
        for d in data
        for v in d["sampled_value"]
        if v["measurand"] == "Energy.Active.Import.Interval"
    ]
    assert registers[0] == pytest.approx(start["meter_start"], abs=0.5)
    assert sum(intervals) == pytest.approx(registers[-1] - registers[0], abs=0.01)


async def test_clock_aligned_values_follow_the_wall_clock_outside_a_transaction(
    tmp_path: Path, csms: TestCsms
) -> None:
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # The CSMS's clock says it is 2.5 s before midnight; the box takes its time from there.
    csms.script.time_offset = midnight - now - timedelta(seconds=2.5)
    async with running_wallbox(tmp_path, ocpp_config(csms)):
        await csms.wait_status(1, "Available")
        await csms.configure(
            MeterValuesAlignedData="Energy.Active.Import.Register,Energy.Active.Import.Interval",
            ClockAlignedDataInterval="900",
        )
        aligned = await csms.wait_for("MeterValues", timeout=5)
        assert "transaction_id" not in aligned
        value = aligned["meter_value"][0]
        assert value["timestamp"] == midnight.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert {v["context"] for v in value["sampled_value"]} == {"Sample.Clock"}
        assert {v["measurand"] for v in value["sampled_value"]} == {
            "Energy.Active.Import.Register"
        }, "no Interval yet: the series has no earlier value"

        await csms.configure(ClockAlignedDataInterval="1")
        mark = len(csms.received)
        second = await csms.wait_for("MeterValues", since=mark, timeout=5)
        third = await csms.wait_for("MeterValues", lambda p: p is not second, since=mark, timeout=5)
        stamps = [
            datetime.fromisoformat(p["meter_value"][0]["timestamp"].replace("Z", "+00:00"))
            for p in (second, third)
        ]
        assert all(stamp.microsecond == 0 for stamp in stamps)
        assert stamps[1] - stamps[0] == timedelta(seconds=1)
        measurands = [v["measurand"] for v in third["meter_value"][0]["sampled_value"]]
        assert "Energy.Active.Import.Interval" in measurands
        interval = next(
            v
            for v in third["meter_value"][0]["sampled_value"]
            if v["measurand"].endswith("Interval")
        )
        assert float(interval["value"]) == 0.0, "nothing charges while the EV is unplugged"


async def test_a_measurand_the_board_cannot_deliver_is_rejected_and_the_old_value_kept(
    tmp_path: Path, csms: TestCsms
) -> None:
    text = BENCH_SIM.read_text()
    no_soc = text.replace('driver = "bench_ev"', "").replace("[ev_soc]", "")
    assert no_soc != text
    board = tmp_path / "pwm-only-ev.toml"
    board.write_text(no_soc)
    async with running_wallbox(tmp_path / "box", ocpp_config(csms), board=str(board)):
        await csms.wait_status(1, "Available")
        before = await csms.call(call.GetConfiguration(key=["MeterValuesSampledData"]))
        answer = await csms.call(
            call.ChangeConfiguration(key="MeterValuesSampledData", value="Voltage,SoC")
        )
        assert answer.status == "Rejected"
        after = await csms.call(call.GetConfiguration(key=["MeterValuesSampledData"]))
        assert after.configuration_key == before.configuration_key
        too_many = ",".join(["Voltage"] * (len(MEASURANDS) + 1))
        answer = await csms.call(
            call.ChangeConfiguration(key="MeterValuesAlignedData", value=too_many)
        )
        assert answer.status == "Rejected"
