"""What only the 1.6 front is sent: floods, binary frames, stray answers, bursts of calls;
the link and the session outlive them. The malformed frames of either version are
tests/csms/test_malformed_frames.py."""

from __future__ import annotations

import asyncio

from tests.conftest import BenchClient, charge_under_csms
from tests.rigs.csms import TestCsms


async def test_a_flood_of_garbage_leaves_the_link_working(box: BenchClient, csms: TestCsms) -> None:
    for i in range(50):
        await csms.send_raw(f'[2, "g{i}", "Reset", {{"type": {i}}}]')
    answer = await csms.send_raw('[2, "ok", "GetConfiguration", {"key": ["NumberOfConnectors"]}]')
    assert answer[0] == 3
    assert answer[2]["configurationKey"][0]["value"] == "1"


async def test_binary_frames_and_stray_answers_leave_the_session_alone(
    box: BenchClient, csms: TestCsms
) -> None:
    await charge_under_csms(box, csms)
    side = await csms.connected()
    before = len(csms.raw_answers)
    await side._connection.send(b'[2, "bin1", "Reset", {"type": "Hard"}]')
    while len(csms.raw_answers) == before:
        await asyncio.sleep(0.01)
    assert csms.raw_answers[before][:3] == [4, "bin1", "FormationViolation"], "text frames only"
    for stray in ('[3, "nobody-asked", {}]', '[4, "nobody-asked", "InternalError", "", {}]'):
        await side._connection.send(stray)
    answer = await csms.send_raw(
        '[2, "after2", "GetConfiguration", {"key": ["NumberOfConnectors"]}]'
    )
    assert answer[:2] == [3, "after2"], "stray answers are not answered"
    assert not box.resets
    await _session_untouched(box, csms)


async def _session_untouched(box: BenchClient, csms: TestCsms) -> None:
    status = await box.status()
    assert status["contactor"] == "closed"
    assert status["connectors"]["1"]["status"] == "Charging"
    assert status["ocpp"]["connected"] is True
    assert len(csms.connections) == 1, "the WebSocket was never closed"
    assert "StopTransaction" not in csms.actions()
    assert len(csms.of("StartTransaction")) == 1


async def test_a_burst_of_calls_is_answered_one_answer_each(
    box: BenchClient, csms: TestCsms
) -> None:
    """OCPP-J 4.1.1 allows one CALL at a time; a CSMS that sends a hundred without waiting
    gets an answer for every one (GenericError past 16 in progress) and a working link."""
    await charge_under_csms(box, csms)
    side = await csms.connected()
    before = len(csms.raw_answers)
    ids = [f"burst{i}" for i in range(100)]
    for unique_id in ids:
        await side._connection.send(
            f'[2, "{unique_id}", "GetConfiguration", {{"key": ["NumberOfConnectors"]}}]'
        )
    while len(csms.raw_answers) < before + len(ids):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    answers = {a[1]: a for a in csms.raw_answers[before:]}
    assert sorted(answers) == sorted(ids), "one answer each, none twice"
    refused = [a for a in answers.values() if a[0] == 4]
    assert all(a[2] == "GenericError" for a in refused)
    assert len(refused) <= len(ids) - 16
    await _session_untouched(box, csms)
