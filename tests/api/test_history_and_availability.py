"""The session history over the API, from the SQLite file: JSON and CSV, newest first,
with the energy and the reason; a bad limit is a 400. Availability over the API, kept
across a restart as ChangeAvailability's is."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pievse.firmware.api.session_history import sessions_csv
from tests.conftest import FAST_CONFIG, BenchClient, running_wallbox, start_charging


async def test_finished_sessions_are_listed_as_json_and_csv(bench: BenchClient) -> None:
    for _ in range(2):
        await start_charging(bench)
        await bench.wait_for(lambda s: s["session"]["energy_wh"] > 0, timeout=5)
        await bench.bench("ev", state="A")
        await bench.wait_for(lambda s: s["session"] is None)
    code, answer = await bench.get("/api/sessions")
    assert code == 200
    sessions = answer["sessions"]
    assert [s["id"] for s in sessions] == [2, 1], "newest first"
    assert all(s["stop_reason"] == "EVDisconnected" and s["energy_wh"] > 0 for s in sessions)
    assert sessions[0]["id_tag"] == "CARD-1"
    async with bench.http.get(f"{bench.base}/api/sessions.csv?limit=1") as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 1
    assert rows[0]["id"] == "2" and float(rows[0]["energy_wh"]) == sessions[0]["energy_wh"]
    assert list(rows[0]) == ["id", "id_tag", "started_at", "stopped_at", "energy_wh", "stop_reason"]


async def test_a_bad_limit_is_refused(bench: BenchClient) -> None:
    for limit in ("0", "abc", "5000", "-1"):
        code, answer = await bench.get(f"/api/sessions?limit={limit}")
        assert code == 400
        assert "limit must be 1..1000" in answer["error"]


async def test_availability_is_set_over_the_api_and_kept_across_a_restart(
    tmp_path: Path,
) -> None:
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        code, answer = await box.put("/api/availability", {"operative": False})
        assert (code, answer) == (200, {"status": "Accepted"})
        await box.wait_status("0", "Unavailable")
        for body, message in (
            ({"operative": "no"}, "operative must be true or false"),
            ({"operative": True, "connector_id": 2}, "connector_id must be 0 or 1"),
            ({"operative": True, "reason": "x"}, "unknown field 'reason'"),
        ):
            code, answer = await box.put("/api/availability", body)
            assert code == 400 and message in answer["error"]
        assert (await box.status())["connectors"]["0"]["status"] == "Unavailable"
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        await box.wait_status("0", "Unavailable")
        await start_charging_refused(box)
        code, answer = await box.put("/api/availability", {"operative": True})
        assert answer == {"status": "Accepted"}
        await box.wait_status("0", "Available")


async def start_charging_refused(box: BenchClient) -> None:
    await box.bench("ev", state="B")
    await box.bench("tag", id_tag="CARD-1")
    await box.wait_for(lambda s: s["connectors"]["1"]["status"] == "Unavailable")
    assert (await box.status())["session"] is None, "an inoperative box starts nothing"
    await box.bench("ev", state="A")


FORMULA = '=HYPERLINK("//x.y")'


async def test_a_tag_a_spreadsheet_would_run_is_text_in_the_csv(bench: BenchClient) -> None:
    """An id tag is whatever a card or a CSMS says; opened in a spreadsheet, the CSV must
    not run it. The JSON list keeps it as it is."""
    await start_charging(bench, tag=FORMULA)
    await bench.bench("ev", state="A")
    await bench.wait_for(lambda s: s["session"] is None)
    _, answer = await bench.get("/api/sessions")
    assert answer["sessions"][0]["id_tag"] == FORMULA
    async with bench.http.get(f"{bench.base}/api/sessions.csv") as response:
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert rows[0]["id_tag"] == "'" + FORMULA


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_and_numbers_stay_numbers(start: str) -> None:
    row = {
        "id": 7,
        "id_tag": f"{start}1+2",
        "started_at": "2026-01-01T00:00:00+00:00",
        "stopped_at": None,
        "energy_wh": -1.5,
        "stop_reason": f"{start}cmd",
    }
    parsed = next(csv.DictReader(io.StringIO(sessions_csv([row]))))
    assert parsed["id_tag"] == f"'{start}1+2"
    assert parsed["stop_reason"] == f"'{start}cmd"
    assert parsed["energy_wh"] == "-1.5" and parsed["stopped_at"] == ""
