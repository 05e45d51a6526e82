"""The whole plug-in -> authorize -> charge -> unplug cycle, through the HTTP API only."""

from __future__ import annotations

import sqlite3

from tests.conftest import BenchClient, start_charging


async def test_plug_in_then_tag_charges_and_unplug_ends_the_session(bench: BenchClient) -> None:
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Available"
    assert status["pilot"]["state"] == "A"
    assert status["contactor"] == "open"

    charging = await start_charging(bench, "CARD-1")
    assert charging["pilot"]["state"] == "C"
    assert charging["pilot"]["duty_percent"] == round(32 / 0.6, 2)
    assert charging["pilot"]["offered_a"] == 32.0
    transaction_id = charging["connectors"]["1"]["transaction_id"]
    assert transaction_id is not None

    flowing = await bench.wait_for(lambda s: (s["meter"]["current_a"] or [0])[0] > 31)
    assert flowing["meter"]["current_a"] == [32.0, 32.0, 32.0]
    assert flowing["meter"]["voltage_v"] == [230.0, 230.0, 230.0]
    assert flowing["meter"]["frequency_hz"] == 50.0
    await bench.wait_for(lambda s: s["session"]["energy_wh"] > 5)

    await bench.bench("ev", state="B")  # the EV stops: C -> B opens the contactor
    paused = await bench.wait_status("1", "SuspendedEV")
    assert paused["contactor"] == "open"
    assert paused["pilot"]["duty_percent"] is not None

    await bench.bench("ev", state="A")
    ended = await bench.wait_status("1", "Available")
    assert ended["connectors"]["1"]["transaction_id"] is None
    assert ended["pilot"]["duty_percent"] is None
    assert ended["contactor"] == "open"

    db = sqlite3.connect(bench.wallbox.store.path)
    row = db.execute(
        "SELECT id_tag, meter_start_wh, meter_stop_wh, stop_reason FROM sessions WHERE id=?",
        (transaction_id,),
    ).fetchone()
    assert row[0] == "CARD-1"
    assert row[3] == "EVDisconnected"
    assert row[2] - row[1] > 5


async def test_tag_then_plug_in(bench: BenchClient) -> None:
    await bench.bench("tag", id_tag="EARLY")
    await bench.bench("ev", state="C")
    status = await bench.wait_status("1", "Charging")
    assert status["session"]["id_tag"] == "EARLY"
    assert status["contactor"] == "closed"


async def test_same_tag_stops_and_the_ev_is_asked_first(bench: BenchClient) -> None:
    await start_charging(bench, "CARD-2")
    await bench.bench("tag", id_tag="OTHER")  # someone else's card does not stop it
    status = await bench.status()
    assert status["connectors"]["1"]["status"] == "Charging"

    await bench.bench("tag", id_tag="CARD-2")
    finishing = await bench.wait_status("1", "Finishing")
    assert finishing["pilot"]["duty_percent"] is None
    assert finishing["session"] is None
    # The EV still says C; the contactor opens after suspend_timeout_s (1 s in tests).
    opened = await bench.wait_for(lambda s: s["contactor"] == "open", timeout=3)
    assert opened["connectors"]["1"]["status"] == "Finishing"
    rows = (
        sqlite3.connect(bench.wallbox.store.path)
        .execute("SELECT stop_reason FROM sessions")
        .fetchall()
    )
    assert rows == [("Local",)]


async def test_ev_limit_and_single_phase(bench: BenchClient) -> None:
    await bench.bench("ev", state="B", max_current_a=16, phases=1)
    await bench.bench("tag", id_tag="CARD-3")
    await bench.bench("ev", state="C")
    status = await bench.wait_for(lambda s: (s["meter"]["current_a"] or [0])[0] > 15)
    assert status["meter"]["current_a"] == [16.0, 0.0, 0.0]
    assert status["pilot"]["offered_a"] == 32.0
