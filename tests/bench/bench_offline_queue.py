"""Offline-operation figures: the durable queue and the local authorization list.

Run: python tests/bench/bench_offline_queue.py [--messages 10000] [--dir DIR]

- persistence cost of one queued transaction message (SQLite WAL, synchronous=FULL: one
  fsync per message) on the disk of `--dir` (default: a temporary directory);
- replay: a real `pievse run` process whose database holds `--messages` transaction messages
  queued while offline (StartTransaction, MeterValues, StopTransaction) meets the CSMS on
  loopback; time from its BootNotification to the last message at the CSMS, and whether
  every message arrived once and in order;
- local list: lookup time of a tag (listed, and unknown: list and cache both asked) with
  10 000 entries installed, and the time to apply one SendLocalList of 1000 entries.
Targets: replay of 10 000 < 20 s; lookups well under a millisecond.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pievse.firmware.clock import SystemClock, iso_utc  # noqa: E402
from pievse.firmware.config import Config  # noqa: E402
from pievse.firmware.csms.authorizer import Authorizer  # noqa: E402
from pievse.firmware.csms.configuration_keys import ConfigurationKeys  # noqa: E402
from pievse.firmware.csms.key_table import core_key_specs  # noqa: E402
from pievse.firmware.csms.outbox import Outbox  # noqa: E402
from pievse.firmware.ocpp16.authorize import ask_csms  # noqa: E402
from pievse.firmware.persistence.store import Store  # noqa: E402
from pievse.firmware.session.id_tag_info import IdTagInfo  # noqa: E402
from pievse.firmware.session.id_tag_store import IdTagStore  # noqa: E402
from pievse.firmware.session.sessions import SessionLog  # noqa: E402
from tests.rigs.csms import TestCsms  # noqa: E402
from tests.rigs.process import free_port, run_with_csms  # noqa: E402

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _keys(store: Store) -> ConfigurationKeys:
    return ConfigurationKeys(store, core_key_specs(Config(), frozenset()))


def _meter_values(energy_wh: float, at: datetime) -> dict[str, object]:
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": iso_utc(at),
                "sampledValue": [
                    {
                        "value": f"{energy_wh:.0f}",
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "location": "Outlet",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    }


async def queue_offline_transaction(data_dir: Path, messages: int) -> list[float]:
    """One transaction of `messages` queued messages, as an outage leaves them; returns the
    time each put took (each one commits, and so fsyncs, on its own)."""
    store = Store(data_dir / "pievse.db")
    sessions = SessionLog(store)
    outbox = Outbox(store, _keys(store))
    session = sessions.start(1, "OFFLINE", START, 0.0)
    costs: list[float] = []

    def put(action: str, payload: dict[str, object]) -> None:
        began = time.perf_counter()
        outbox.put_transaction(action, payload, session.id)
        costs.append(time.perf_counter() - began)

    put(
        "StartTransaction",
        {"connectorId": 1, "idTag": "OFFLINE", "meterStart": 0, "timestamp": iso_utc(START)},
    )
    for n in range(1, messages - 1):
        put("MeterValues", _meter_values(float(n), START + timedelta(seconds=n)))
    stopped = START + timedelta(seconds=messages)
    sessions.stop(session, stopped, float(messages), "EVDisconnected")
    put(
        "StopTransaction",
        {"meterStop": messages, "timestamp": iso_utc(stopped), "reason": "EVDisconnected"},
    )
    store.close()
    return costs


async def replay(data_dir: Path, messages: int) -> tuple[float, list[str]]:
    """Starts `pievse run` on the queued database; seconds from its BootNotification until
    the StopTransaction arrived, and what went wrong with the order, if anything."""
    csms = TestCsms()
    await csms.start()
    process = subprocess.Popen(
        run_with_csms(csms.url, data_dir, free_port()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        await csms.wait_for("BootNotification", timeout=30)
        booted = next(r.at for r in csms.received if r.action == "BootNotification")
        await csms.wait_for("StopTransaction", timeout=600)
        finished = next(r.at for r in csms.received if r.action == "StopTransaction")
    finally:
        process.terminate()
        process.wait(timeout=20)
        await csms.stop()
    energies = [
        float(p["meter_value"][0]["sampled_value"][0]["value"]) for p in csms.of("MeterValues")
    ]
    problems = []
    if len(csms.of("StartTransaction")) != 1 or len(csms.of("StopTransaction")) != 1:
        problems.append("not exactly one StartTransaction and one StopTransaction")
    if energies != [float(n) for n in range(1, messages - 1)]:
        problems.append(f"MeterValues not all there once and in order ({len(energies)})")
    transaction_actions = ("StartTransaction", "MeterValues", "StopTransaction")
    order = [a for a in csms.actions() if a in transaction_actions]
    if order[0] != "StartTransaction" or order[-1] != "StopTransaction":
        problems.append("Start or Stop out of place")
    return finished - booted, problems


def local_list_lookups(data_dir: Path, entries: int) -> tuple[list[float], list[float], float]:
    store = Store(data_dir / "list.db")
    keys = _keys(store)
    tags = IdTagStore(store)
    accepted = IdTagInfo("Accepted", parent_id_tag="FLEET")
    began = time.perf_counter()
    tags.update_list(1, True, [(f"TAG{n:05d}", accepted) for n in range(1000)], 10_000)
    apply_s = time.perf_counter() - began
    for version, first in enumerate(range(1000, entries, 1000), start=2):
        batch = [(f"TAG{n:05d}", accepted) for n in range(first, first + 1000)]
        tags.update_list(version, False, batch, 10_000)
    assert tags.list_size() == entries

    class Offline:
        accepted = False

    authorizer = Authorizer(Offline(), ask_csms, tags, keys, SystemClock())  # type: ignore[arg-type]
    listed: list[float] = []
    unknown: list[float] = []
    for n in range(0, entries, max(1, entries // 5000)):
        began = time.perf_counter()
        assert authorizer.local(f"TAG{n:05d}") is not None
        listed.append(time.perf_counter() - began)
        began = time.perf_counter()
        assert authorizer.local(f"NOPE{n:05d}") is None
        unknown.append(time.perf_counter() - began)
    store.close()
    return listed, unknown, apply_s


def main() -> None:
    parser = argparse.ArgumentParser(description="offline queue and local list figures")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, help="where the databases go (which disk)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pievse-queue-", dir=args.dir) as tmp:
        data = Path(tmp)
        costs = asyncio.run(queue_offline_transaction(data, args.messages))
        print(
            f"persisting one queued message: mean {statistics.mean(costs) * 1000:.2f} ms, "
            f"p99 {_percentile(costs, 0.99) * 1000:.2f} ms ({len(costs)} messages, "
            f"one fsync each, on {data})"
        )
        seconds, problems = asyncio.run(replay(data, args.messages))
        print(
            f"replay of {args.messages} queued messages after reconnect: {seconds:.1f} s "
            f"({args.messages / seconds:.0f} messages/s), "
            + ("in order, each once" if not problems else "; ".join(problems))
        )
        listed, unknown, apply_s = local_list_lookups(data, 10_000)
        print(
            f"local list of {10_000} entries: lookup of a listed tag p50 "
            f"{statistics.median(listed) * 1e6:.0f} us, p99 {_percentile(listed, 0.99) * 1e6:.0f}"
            f" us; of an unknown tag (list and cache) p50 {statistics.median(unknown) * 1e6:.0f}"
            f" us, p99 {_percentile(unknown, 0.99) * 1e6:.0f} us; "
            f"SendLocalList of 1000 entries applied in {apply_s * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
