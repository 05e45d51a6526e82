"""Fault injection: kill the real `pievse run` with SIGKILL at random points of charging
sessions, take the CSMS away for long stretches, then audit the CSMS's books.

Run: python tests/rigs/fault_injection.py [--kills 200] [--outages 20] [--seed N] [--version 2.0.1]

Each cycle plugs the bench EV in, presents a card, charges a while and unplugs; one SIGKILL
lands at a random point of it: while the session starts, while charging, right after the
unplug (StopTransaction being written and sent), or while the queue replays after an outage.
Every other restart lets the box resume a session cut by the kill (`resume_after_power_loss`);
the others end it as PowerLoss. The CSMS is down for whole cycles now and then, so sessions
start and end offline (authorized by the local list). At the end the CSMS is up, the EV is
unplugged and the queue is drained; then `tests/transaction_ledger.py` checks that every
transaction started was stopped exactly once, that meter values never went back, that
nothing arrived out of order and nothing was lost (every session in the box's database has
its transaction at the CSMS). The short form runs in CI (`tests/control/test_fault_injection.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ocpp.v16 import call  # noqa: E402
from ocpp.v201 import call as call201  # noqa: E402

from tests.rigs.csms import TestCsms  # noqa: E402
from tests.rigs.csms201 import TestCsms201  # noqa: E402
from tests.rigs.process import PIEVSE, free_port  # noqa: E402
from tests.rigs.transaction_ledger import LedgerReport, audit, audit_events  # noqa: E402

TAGS = ("FLEET-1", "FLEET-2", "GUEST-3")
KILL_POINTS = ("starting", "charging", "stopping", "replaying")
CONFIG = """
[security]
profile = 0

[ocpp]
csms_url = "{url}"
version = "{version}"
response_timeout_s = 2
reconnect_min_s = 0.1
reconnect_max_s = 0.5

[control]
tick_ms = 50
duty_hold_s = 0.5
suspend_timeout_s = 1.0
connection_timeout_s = 5
resume_after_power_loss = {resume}

[meter]
poll_interval_s = 0.2
"""


@dataclass
class Campaign:
    kills: int = 10
    outages: int = 2
    seed: int = 1
    outage_cycles: tuple[int, int] = (1, 3)
    version: str = "1.6"


@dataclass
class Outcome:
    kills: dict[str, int] = field(default_factory=dict)
    outages: int = 0
    starts: int = 0
    resumed: int = 0
    local_sessions: int = 0
    report: LedgerReport = field(default_factory=LedgerReport)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        kills = ", ".join(f"{point} {n}" for point, n in sorted(self.kills.items()))
        return [
            f"SIGKILLs: {sum(self.kills.values())} ({kills}); CSMS outages: {self.outages}; "
            f"process starts: {self.starts}; sessions resumed after a kill: {self.resumed}",
            f"box database: {self.local_sessions} sessions",
            f"CSMS books: {self.report.summary()}",
            f"took {self.seconds:.0f} s",
            *[f"VIOLATION: {v}" for v in self.report.violations],
        ]


class Box:
    """One `pievse run` process after another on the same data directory."""

    def __init__(
        self, workdir: Path, csms_url: str, resume: Callable[[int], bool], version: str = "1.6"
    ) -> None:
        """`resume(n)`: whether the n-th start resumes a session a kill cut."""
        self.workdir = workdir
        self.csms_url = csms_url
        self.version = version
        self.resume = resume
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        resume = self.resume(self.starts)
        config = self.workdir / "pievse.toml"
        config.write_text(
            CONFIG.format(url=self.csms_url, resume=str(resume).lower(), version=self.version)
        )
        log = (self.workdir / f"run-{self.starts:04d}.log").open("wb")
        self.process = subprocess.Popen(
            [
                *PIEVSE,
                "run",
                "--config",
                str(config),
                "--data-dir",
                str(self.workdir / "data"),
                "--api",
                f"127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        self.starts += 1
        await self.wait_for(lambda s: s["meter"].get("energy_import_wh") is not None, 20)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    async def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.http is not None
        url = f"http://127.0.0.1:{self.port}{path}"
        if body is None:
            async with self.http.get(url) as response:
                return await response.json()
        async with self.http.post(url, json=body) as response:
            return await response.json()

    async def status(self) -> dict[str, Any] | None:
        try:
            return await self.call("/api/status")
        except aiohttp.ClientError:
            return None

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pievse exited with {self.process.returncode}; see {self.workdir}"
                )
            status = await self.status()
            if status is not None and predicate(status):
                return status
            await asyncio.sleep(0.05)
        return None


async def _setup_csms_side(csms: TestCsms) -> None:
    """Sampled values each second, and the cards allowed for offline starts (on 1.6 by the
    local list, on 2.0.1 as unknown tokens offline)."""
    if isinstance(csms, TestCsms201):
        answer = await csms.call(
            call201.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": component},
                        "variable": {"name": variable},
                        "attributeValue": value,
                    }
                    for component, variable, value in (
                        ("SampledDataCtrlr", "TxUpdatedInterval", "1"),
                        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true"),
                    )
                ]
            )
        )
        assert {r["attribute_status"] for r in answer.set_variable_result} == {"Accepted"}
        return
    await csms.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"))
    await csms.call(
        call.SendLocalList(
            list_version=1,
            update_type="Full",
            local_authorization_list=[
                {"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in TAGS
            ],
        )
    )


async def run_campaign(workdir: Path, campaign: Campaign) -> Outcome:
    rng = random.Random(campaign.seed)
    outcome = Outcome()
    began = time.monotonic()
    csms = TestCsms201() if campaign.version == "2.0.1" else TestCsms()
    await csms.start()
    box = Box(workdir, csms.url, lambda start: start % 2 == 1, campaign.version)
    outage_every = max(1, campaign.kills // max(1, campaign.outages)) if campaign.outages else 0
    outage_left = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        box.http = http
        try:
            await box.start()
            await csms.connected(10)
            await _setup_csms_side(csms)
            for cycle in range(campaign.kills):
                due = outage_every and cycle % outage_every == outage_every - 1
                if outage_left == 0 and due and outcome.outages < campaign.outages:
                    await csms.stop()
                    outage_left = rng.randint(*campaign.outage_cycles)
                    outcome.outages += 1
                point = rng.choice(KILL_POINTS)
                if point == "replaying" and outage_left == 0:
                    point = "charging"
                await _cycle(box, csms, rng, point)
                outcome.kills[point] = outcome.kills.get(point, 0) + 1
                outage_left = 0 if point == "replaying" else max(0, outage_left - 1)
                await _restart(box, outcome)
                if outage_left == 0 and not _listening(csms):
                    await csms.start_on(csms.port)
            if not _listening(csms):
                await csms.start_on(csms.port)
            await _finish(box)
        finally:
            box.terminate()
            await csms.stop()
    outcome.starts = box.starts
    books = audit_events if campaign.version == "2.0.1" else audit
    outcome.report = books(csms.received, complete=True)
    outcome.local_sessions = _check_box_database(
        workdir / "data" / "pievse.db", outcome.report, campaign.version == "1.6"
    )
    outcome.seconds = time.monotonic() - began
    return outcome


def _listening(csms: TestCsms) -> bool:
    server = csms._server
    return server is not None and server.is_serving()


async def _cycle(box: Box, csms: TestCsms, rng: random.Random, kill_at: str) -> None:
    """One charging session with one SIGKILL at `kill_at`; "replaying" ends the outage
    and kills while the box sends what it queued offline."""
    status = await box.status()
    if status is not None and status["session"] is None:
        await box.call("/api/bench/ev", {"state": "C"})
        await box.call("/api/bench/tag", {"id_tag": rng.choice(TAGS)})
    if kill_at == "starting":
        await asyncio.sleep(rng.uniform(0.0, 0.6))
        box.kill()
        return
    await box.wait_for(lambda s: s["session"] is not None, 5)
    await asyncio.sleep(rng.uniform(0.3, 2.0))
    if kill_at == "charging":
        box.kill()
        return
    await box.call("/api/bench/ev", {"state": "A"})
    if kill_at == "stopping":
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        box.kill()
        return
    await box.wait_for(lambda s: s["session"] is None, 5)
    await csms.start_on(csms.port)
    await box.wait_for(lambda s: s["ocpp"]["connected"], 5)
    await asyncio.sleep(rng.uniform(0.0, 0.5))
    box.kill()


async def _restart(box: Box, outcome: Outcome) -> None:
    await box.start()
    status = await box.status()
    if status is not None and status["session"] is not None:
        outcome.resumed += 1


async def _finish(box: Box) -> None:
    """Unplug, then wait for the box to be registered with an empty queue."""
    await box.call("/api/bench/ev", {"state": "A"})
    drained = await box.wait_for(
        lambda s: (
            s["session"] is None
            and s["ocpp"]["connected"]
            and s["ocpp"]["registration"] == "accepted"
            and s["ocpp"]["queued"] == 0
        ),
        60,
    )
    if drained is None:
        raise RuntimeError("the queue did not drain after the CSMS came back")
    box.terminate()


def _check_box_database(path: Path, report: LedgerReport, csms_ids: bool) -> int:
    """Nothing lost: every session the box recorded reached the CSMS as a transaction
    (`csms_ids`: 1.6, where each session holds the transactionId the CSMS gave it)."""
    db = sqlite3.connect(path)
    try:
        sessions = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        open_ = db.execute("SELECT COUNT(*) FROM sessions WHERE stopped_at IS NULL").fetchone()[0]
        unsent = db.execute(
            "SELECT id FROM sessions WHERE transaction_id IS NULL ORDER BY id"
        ).fetchall()
        queued = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        db.close()
    if open_:
        report.violations.append(f"{open_} sessions still open in the box's database")
    if unsent and csms_ids:
        report.violations.append(f"sessions never reported to the CSMS: {[r[0] for r in unsent]}")
    if queued:
        report.violations.append(f"{queued} messages still queued in the box's database")
    if sessions != report.transactions:
        report.violations.append(
            f"the box recorded {sessions} sessions, the CSMS {report.transactions} transactions"
        )
    return sessions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--outages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--workdir", type=Path, help="keep the data and logs here")
    parser.add_argument("--version", choices=("1.6", "2.0.1"), default="1.6")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pievse-faults-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"seed {args.seed}, {args.kills} kills, {args.outages} outages, in {workdir}")
        outcome = asyncio.run(
            run_campaign(
                workdir, Campaign(args.kills, args.outages, args.seed, (1, 5), args.version)
            )
        )
        for line in outcome.lines():
            print(line)
    return 1 if outcome.report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
