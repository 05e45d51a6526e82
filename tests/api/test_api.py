"""The local API contract: derating through the bench, and bad input rejected with 400."""

from __future__ import annotations

import pytest

from tests.conftest import BenchClient, start_charging


async def test_derating_steps_cap_the_offer_then_the_trip_opens(bench: BenchClient) -> None:
    await start_charging(bench)
    await bench.bench("temperature", celsius=65)
    step1 = await bench.wait_for(lambda s: s["limit"]["source"] == "thermal")
    assert step1["limit"]["current_a"] == 16.0
    await bench.wait_for(lambda s: s["pilot"]["duty_percent"] == round(16 / 0.6, 2))

    await bench.bench("temperature", celsius=75)
    step2 = await bench.wait_for(lambda s: s["limit"]["current_a"] == 10.0, timeout=3)
    assert step2["contactor"] == "closed"
    await bench.wait_for(lambda s: s["pilot"]["duty_percent"] == round(10 / 0.6, 2), timeout=3)

    await bench.bench("temperature", celsius=81)
    tripped = await bench.status()
    assert tripped["contactor"] == "open"
    assert tripped["connectors"]["0"]["error_code"] == "HighTemperature"

    await bench.bench("temperature", celsius=72)  # above resume_c (70): still tripped
    assert (await bench.status())["connectors"]["0"]["status"] == "Faulted"
    await bench.bench("temperature", celsius=40)
    resumed = await bench.wait_status("1", "Charging")
    assert resumed["limit"]["source"] == "board"
    assert resumed["connectors"]["0"]["status"] == "Available"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/bench/ev", {"state": "X"}, "state must be one of"),
        ("/api/bench/ev", {}, "state must be one of"),
        ("/api/bench/ev", {"state": "C", "max_current_a": 120}, "max_current_a"),
        ("/api/bench/ev", {"state": "C", "max_current_a": "32"}, "max_current_a"),
        ("/api/bench/ev", {"state": "C", "phases": 2}, "phases must be 1 or 3"),
        ("/api/bench/ev", {"state": "C", "phases": True}, "phases must be 1 or 3"),
        ("/api/bench/ev", {"state": "C", "ignores_phase_switch": 1}, "must be true or false"),
        ("/api/bench/ev", {"state": "C", "colour": "red"}, "unknown field 'colour'"),
        ("/api/bench/ev", ["C"], "body must be a JSON object"),
        ("/api/bench/tag", {"id_tag": ""}, "id_tag must be"),
        ("/api/bench/tag", {"id_tag": "X" * 21}, "id_tag must be"),
        ("/api/bench/tag", {"id_tag": 12}, "id_tag must be"),
        ("/api/bench/fault", {"fault": "fire", "active": True}, "fault must be one of"),
        ("/api/bench/fault", {"fault": "rcd", "active": "yes"}, "active must be true or false"),
        ("/api/bench/fault", {"fault": "rcd"}, "active must be true or false"),
        ("/api/bench/temperature", {"celsius": 500}, "celsius"),
    ],
)
async def test_bad_bench_input_is_rejected_and_changes_nothing(
    bench: BenchClient, path: str, body: object, message: str
) -> None:
    before = await bench.status()
    code, answer = await bench.post(path, body)
    assert code == 400
    assert message in answer["error"]
    after = await bench.status()
    assert after["pilot"] == before["pilot"]
    assert after["connectors"] == before["connectors"]
    assert after["faults"] == before["faults"] == []
    assert bench.wallbox.board.bench.ev_status()["state"] == "A"


async def test_malformed_json_and_unknown_paths(bench: BenchClient) -> None:
    async with bench.http.post(
        f"{bench.base}/api/bench/ev",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert "not valid JSON" in (await response.json())["error"]
    async with bench.http.post(f"{bench.base}/api/bench/explode", json={}) as response:
        assert response.status == 404
        assert "known: ev, site, tag, fault, temperature" in (await response.json())["error"]
    async with bench.http.get(f"{bench.base}/api/nothing") as response:
        assert response.status == 404


async def test_status_carries_the_contract_fields(bench: BenchClient) -> None:
    status = await bench.status()
    for connector in ("0", "1"):
        assert set(status["connectors"][connector]) >= {"status", "error_code", "transaction_id"}
    assert set(status["pilot"]) >= {"state", "duty_percent", "offered_a"}
    assert status["contactor"] in ("open", "closed")
    assert status["meter"]["energy_import_wh"] is not None
    assert status["ocpp"]["connected"] is False
    assert status["ocpp"]["registration"] == "standalone"


async def test_the_bench_lists_every_fault_it_can_inject_and_those_active(
    bench: BenchClient,
) -> None:
    """The page's bench card offers what `GET /api/bench` lists: every fault the bench
    takes, each of which `POST /api/bench/fault` accepts."""
    code, state = await bench.get("/api/bench")
    assert code == 200 and state["ev"]["faults"] == []
    assert len(state["faults"]) == 14 and "rcd" in state["faults"] and "tamper" in state["faults"]
    await bench.bench("fault", fault="lock", active=True)
    _, state = await bench.get("/api/bench")
    assert state["ev"]["faults"] == ["lock"]
    for fault in state["faults"]:
        assert (await bench.post("/api/bench/fault", {"fault": fault, "active": False}))[0] == 200
