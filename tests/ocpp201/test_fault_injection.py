"""The fault injection on 2.0.1: SIGKILLs at random points of real sessions and CSMS
outages; no TransactionEvent lost, duplicated as a different event, or out of sequence."""

from __future__ import annotations

from pathlib import Path

from tests.rigs.fault_injection import Campaign, run_campaign


async def test_kills_and_outages_keep_every_transaction_event_in_sequence(
    tmp_path: Path,
) -> None:
    outcome = await run_campaign(
        tmp_path, Campaign(kills=12, outages=3, seed=20261203, version="2.0.1")
    )
    print("\n".join(outcome.lines()))
    report = outcome.report
    assert not report.violations, report.violations
    assert sum(outcome.kills.values()) == 12
    assert report.transactions >= 5, "the campaign must actually charge"
    assert report.stopped == report.transactions == outcome.local_sessions
    assert report.stop_reasons.get("PowerLoss", 0) >= 1, "a kill must have cut a session"
    assert outcome.resumed >= 1, "a session must have been resumed after a kill"
