"""`pievse demo`: the whole product on one machine. A bench-sim box and the demo central
system on loopback; a scripted session (boot, plug-in, card, charge under a charging
profile that changes mid-session, a fault and its clearing, unplug) with every OCPP frame
printed as it goes, or, with `--no-script`, both left running to explore."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.demo.central_system import DemoCentralSystem
from pievse.firmware.demo.timeline import describe
from pievse.firmware.event_wait import stop_requested

Status = dict[str, Any]
"""The box's status document (`Wallbox.status`), as the steps wait on it."""
CARD = "DEMO-CARD"
STEP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DemoOptions:
    script: bool = True
    api: str = "127.0.0.1:8080"
    data_dir: Path | None = None
    """Where the box keeps its database; None: a temporary directory."""
    pause_s: float = 1.0
    """Between the steps, so a person can follow."""


class DemoFailed(Exception):
    """A step did not happen in time; the message says which."""


def _config(csms_url: str) -> str:
    return (
        f'[ocpp]\ncsms_url = "{csms_url}"\n\n[security]\nprofile = 0\n\n'
        "[control]\nduty_hold_s = 1.0\nsuspend_timeout_s = 2.0\n\n"
        "[meter]\npoll_interval_s = 0.5\n"
    )


async def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> None:
    started = time.monotonic()
    calls: dict[str, str] = {}

    def record(raw: str, from_box: bool) -> None:
        who = ("box", "CSMS") if from_box else ("CSMS", "box")
        say(f"{time.monotonic() - started:8.2f} s  {describe(raw, who[0], who[1], calls)}")

    csms = DemoCentralSystem(record)
    await csms.start()
    with contextlib.ExitStack() as stack:
        data = options.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        data.mkdir(parents=True, exist_ok=True)
        config = data / "demo.toml"
        config.write_text(_config(csms.url))
        box = Wallbox(RunOptions(config=config, data_dir=data, api=options.api))
        try:
            await box.start()
            host, port = box.api_address or ("127.0.0.1", 0)
            say(f"pievse demo: bench box on bench-sim, central system at {csms.url}")
            say(f"status page: http://{host}:{port}/  (and /api/status; the bench API is live)")
            if options.script:
                await _Script(box, csms, options.pause_s, say).run()
                say("demo finished: every step happened")
            else:
                say("--no-script: both keep running; Ctrl-C ends them")
                await stop_requested().wait()
        finally:
            await box.stop()
            await csms.stop()


@dataclass(frozen=True)
class _Script:
    """The scripted session on the bench box: each step says its title, acts, and waits
    until the box's status shows it happened (DemoFailed after `STEP_TIMEOUT_S`)."""

    box: Wallbox
    csms: DemoCentralSystem
    pause_s: float
    say: Callable[[str], None]

    async def run(self) -> None:
        transaction = await self._start_a_session()
        await self._steer_and_end_it(transaction)

    async def _start_a_session(self) -> Any:
        """Boot, plug-in, card, charge: the session's transaction id."""
        bench = self.box.board.bench
        assert bench is not None
        await self._step(
            "boot: the box registers", _nothing, lambda s: s["ocpp"]["registration"] == "accepted"
        )
        await self._step(
            "plug in the EV",
            lambda: bench.set_ev("B", None, None),
            lambda s: _connector(s) == "Preparing",
        )
        await self._step(
            f"present the card {CARD}",
            lambda: bench.present_tag(CARD),
            lambda s: s["session"] is not None,
        )
        charging = await self._step(
            "the EV asks for energy",
            lambda: bench.set_ev("C", None, None),
            lambda s: _connector(s) == "Charging",
        )
        return charging["connectors"]["1"]["transaction_id"]

    async def _steer_and_end_it(self, transaction: Any) -> None:
        """Two charging profiles, a fault and its clearing, the unplug."""
        bench, csms = self.box.board.bench, self.csms
        assert bench is not None
        await self._step(
            "the CSMS limits the session to 16 A",
            lambda: csms.set_profile(transaction, 16.0, 1),
            _offered(16.0),
        )
        await self._step(
            "mid-session the CSMS lowers it to 10 A",
            lambda: csms.set_profile(transaction, 10.0, 1),
            _offered(10.0),
        )
        await self._step(
            "fault: the enclosure overheats",
            lambda: bench.set_fault("overtemperature", True),
            lambda s: s["connectors"]["0"]["error_code"] == "HighTemperature",
        )
        await self._step(
            "the enclosure cools down: charging resumes",
            lambda: bench.set_fault("overtemperature", False),
            lambda s: _connector(s) == "Charging",
        )
        await self._step(
            "unplug the EV: the transaction ends",
            lambda: bench.set_ev("A", None, None),
            lambda s: s["session"] is None and s["ocpp"].get("queued") == 0,
        )

    async def _step(
        self, title: str, action: Callable[[], Any], done: Callable[[Status], bool]
    ) -> Status:
        self.say(f"--- {title}")
        result = action()
        if asyncio.iscoroutine(result):
            await result
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while not done(status := self.box.status()):
            if time.monotonic() > deadline:
                raise DemoFailed(f"{title}: not done within {STEP_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.1)
        await asyncio.sleep(self.pause_s)
        return status


def _nothing() -> None:
    return None


def _connector(status: Status) -> str:
    return str(status["connectors"]["1"]["status"])


def _offered(limit: float) -> Callable[[Status], bool]:
    return lambda s: s["pilot"]["offered_a"] == limit
