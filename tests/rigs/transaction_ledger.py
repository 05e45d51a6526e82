"""The CSMS's books: what a charge point's transaction messages must add up to.

A pure audit of the messages a CSMS received, in arrival order. It is what the fault
injection checks after killing the box and taking the CSMS away: every transaction started
is stopped exactly once, meter values never go back, nothing arrives out of order, and a
message received twice is the same frame again (the box lost the answer; OCPP
delivery is at least once), never a second, different stop. `audit` keeps 1.6's books,
`audit_events` 2.0.1's.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from tests.rigs.csms import Received

REGISTER = "Energy.Active.Import.Register"
ROUNDING_WH = 0.5
"""meterStart/meterStop are whole Wh; sampled values carry decimals."""


@dataclass
class Transaction:
    start: dict[str, Any]
    stop: dict[str, Any] | None = None
    highest_wh: float = 0.0
    meter_values: int = 0


@dataclass
class LedgerReport:
    transactions: int = 0
    stopped: int = 0
    meter_values: int = 0
    retransmitted: int = 0
    stop_reasons: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.stop_reasons.items()))
        return (
            f"{self.transactions} transactions started, {self.stopped} stopped ({reasons}); "
            f"{self.meter_values} transaction MeterValues; {self.retransmitted} frames "
            f"received twice (answer lost at a kill); {len(self.violations)} violations"
        )


def _energies(payload: dict[str, Any]) -> list[float]:
    return [
        float(sample["value"])
        for value in payload["meter_value"]
        for sample in value["sampled_value"]
        if sample.get("measurand", REGISTER) == REGISTER and "phase" not in sample
    ]


def audit(received: list[Received], complete: bool = True) -> LedgerReport:
    """`complete`: the run ended with every session over and the queue drained, so every
    transaction must have been stopped."""
    report = LedgerReport()
    books: dict[int, Transaction] = {}
    frames: set[tuple[str, str]] = set()
    meter_high = 0.0
    last_stamp = ""

    def bad(text: str) -> None:
        report.violations.append(text)

    for message in received:
        payload = message.payload
        if message.action not in ("StartTransaction", "StopTransaction", "MeterValues"):
            continue
        if message.action == "MeterValues" and "transaction_id" not in payload:
            continue  # clock-aligned values outside a transaction are not queued
        frame = (message.action, json.dumps(payload, sort_keys=True))
        if frame in frames:
            report.retransmitted += 1
            continue
        frames.add(frame)
        stamp = (
            payload["timestamp"]
            if message.action != "MeterValues"
            else payload["meter_value"][0]["timestamp"]
        )
        if stamp < last_stamp:
            bad(f"{message.action} at {stamp} arrived after one of {last_stamp}")
        last_stamp = max(last_stamp, stamp)

        if message.action == "StartTransaction":
            tid = (message.answer or {}).get("transaction_id")
            if tid is None or tid in books:
                bad(f"StartTransaction {payload} opened transaction {tid} again")
                continue
            start_wh = float(payload["meter_start"])
            if start_wh + ROUNDING_WH < meter_high:
                bad(f"transaction {tid} starts at {start_wh} Wh, below {meter_high} Wh seen")
            meter_high = max(meter_high, start_wh)
            books[tid] = Transaction(payload, highest_wh=start_wh)
            report.transactions += 1
            continue

        tid = payload["transaction_id"]
        book = books.get(tid)
        if book is None:
            bad(f"{message.action} for transaction {tid}, which never started")
            continue
        if book.stop is not None:
            bad(f"{message.action} for transaction {tid} after its StopTransaction: {payload}")
            continue
        if message.action == "MeterValues":
            report.meter_values += 1
            book.meter_values += 1
            for wh in _energies(payload):
                if wh + ROUNDING_WH < book.highest_wh or wh + ROUNDING_WH < meter_high:
                    bad(f"transaction {tid}: {wh} Wh after {max(book.highest_wh, meter_high)}")
                book.highest_wh = max(book.highest_wh, wh)
                meter_high = max(meter_high, wh)
            continue
        stop_wh = float(payload["meter_stop"])
        if stop_wh + ROUNDING_WH < book.highest_wh:
            bad(f"transaction {tid} stops at {stop_wh} Wh below its {book.highest_wh} Wh")
        meter_high = max(meter_high, stop_wh)
        book.stop = payload
        report.stopped += 1
        reason = payload.get("reason", "Local")
        report.stop_reasons[reason] = report.stop_reasons.get(reason, 0) + 1

    if complete:
        for tid, book in books.items():
            if book.stop is None:
                bad(f"transaction {tid} ({book.start['id_tag']}) was never stopped")
    return report


def audit_events(received: list[Received], complete: bool = True) -> LedgerReport:
    """The same books for 2.0.1: per transactionId the TransactionEvents number 0, 1, 2, ...
    with no gap and no second, different event under a number; Started first, Ended last and
    once; energy never goes back, within a transaction or across them."""
    report = LedgerReport()
    seen: dict[tuple[str, int], str] = {}
    next_seq: dict[str, int] = {}
    ended: set[str] = set()
    highest: dict[str, float] = {}
    meter_high = 0.0

    def bad(text: str) -> None:
        report.violations.append(text)

    for message in received:
        if message.action != "TransactionEvent":
            continue
        event = message.payload
        tid = event["transaction_info"]["transaction_id"]
        seq = event["seq_no"]
        frame = json.dumps(event, sort_keys=True)
        if (tid, seq) in seen:
            if seen[(tid, seq)] == frame:
                report.retransmitted += 1
            else:
                bad(f"transaction {tid}: seqNo {seq} twice, with different events")
            continue
        seen[(tid, seq)] = frame
        if seq != next_seq.get(tid, 0):
            bad(f"transaction {tid}: seqNo {seq} where {next_seq.get(tid, 0)} was due")
        next_seq[tid] = seq + 1
        if tid in ended:
            bad(f"transaction {tid}: {event['event_type']} after its Ended event")
        kind = event["event_type"]
        if (kind == "Started") != (seq == 0):
            bad(f"transaction {tid}: {kind} with seqNo {seq}")
        if kind == "Started":
            report.transactions += 1
        elif kind == "Updated":
            report.meter_values += bool(event.get("meter_value"))
        else:
            ended.add(tid)
            report.stopped += 1
            reason = event["transaction_info"].get("stopped_reason", "Local")
            report.stop_reasons[reason] = report.stop_reasons.get(reason, 0) + 1
        energies = _energies(event) if event.get("meter_value") else []
        if kind == "Ended" and energies:
            # TxEndedMeasurands: the transaction's values again from its start, in order;
            # the last one is the closing register, judged as any new value is
            if any(b + ROUNDING_WH < a for a, b in itertools.pairwise(energies)):
                bad(f"transaction {tid}: its Ended values go back: {energies}")
            energies = energies[-1:]
        for wh in energies:
            floor = max(highest.get(tid, 0.0), meter_high)
            if wh + ROUNDING_WH < floor:
                bad(f"transaction {tid}: {wh} Wh after {floor} Wh")
            highest[tid] = max(highest.get(tid, 0.0), wh)
            meter_high = max(meter_high, wh)
    if complete:
        for tid in next_seq.keys() - ended:
            bad(f"transaction {tid} has no Ended event")
    return report
