"""Several bench boxes sharing one site's supply over a real mosquitto broker, and a watch
that samples what they offer so a test can say the fuse was never exceeded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import BenchClient, running_wallbox
from tests.rigs.mosquitto import Broker

SITE_BOX_CONFIG = """
[control]
tick_ms = 50
fault_retry_s = 1.0
duty_hold_s = 0.5
suspend_timeout_s = 1.0
contactor_release_s = 0.05

[meter]
poll_interval_s = 0.2
offline_after_failures = 3
"""


SITE_SECRET = "the-garage-site-secret"


def site_config(
    broker: Broker, box: str, site: str, extra: str = "", login: tuple[str, str] | None = None
) -> str:
    """`extra`: more [site] keys (main_fuse_a, max_boxes, ...); the boxes sign with
    SITE_SECRET unless `extra` says otherwise. `login`: the box's broker user and password."""
    secret = "" if "secret" in extra or "accept_unsigned" in extra else f'secret = "{SITE_SECRET}"'
    user = "" if login is None else f'username = "{login[0]}"\npassword = "{login[1]}"\n'
    return SITE_BOX_CONFIG + (
        f'\n[charge_point]\nid = "{box}"\n'
        f'\n[mqtt]\nurl = "{broker.url}"\ndiscovery_prefix = ""\n{user}'
        f'\n[site]\nid = "{site}"\npeer_timeout_s = 4.0\n{secret}\n{extra}\n'
    )


async def plug_in_and_want(box: BenchClient) -> None:
    if box.wallbox.controller.sessions.session is not None:
        return
    await box.bench("ev", state="B")
    await box.wait_status("1", "Preparing")
    await box.bench("tag", id_tag=f"CARD-{box.wallbox.config.charge_point.id}")
    await box.wait_for(lambda s: s["session"] is not None)
    await box.bench("ev", state="C")


def sharing(status: dict[str, Any]) -> dict[str, Any]:
    return status["site"]["sharing"]


class SiteRig:
    def __init__(
        self,
        directory: Path,
        broker: Broker,
        site: str,
        extra: str,
        logins: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        """`logins`: box -> its broker user and password (where the broker asks)."""
        self._logins = logins or {}
        self._directory = directory
        self._broker = broker
        self._site = site
        self._extra = extra
        self.boxes: dict[str, BenchClient] = {}
        self._stacks: dict[str, contextlib.AsyncExitStack] = {}

    async def add(self, name: str) -> BenchClient:
        stack = contextlib.AsyncExitStack()
        config = site_config(self._broker, name, self._site, self._extra, self._logins.get(name))
        box = await stack.enter_async_context(running_wallbox(self._directory / name, config))
        self.boxes[name], self._stacks[name] = box, stack
        return box

    async def remove(self, name: str) -> None:
        del self.boxes[name]
        await self._stacks.pop(name).aclose()

    async def close(self) -> None:
        for name in list(self.boxes):
            await self.remove(name)

    async def charge_all(self) -> None:
        """Every EV plugged in, a card presented, and wanting to charge: whether it does
        is the site's to say."""
        await asyncio.gather(*(plug_in_and_want(box) for box in self.boxes.values()))

    def offers(self) -> dict[str, float]:
        return {
            name: box.wallbox.status()["pilot"]["offered_a"] for name, box in self.boxes.items()
        }

    def states(self) -> set[str]:
        return {sharing(box.wallbox.status())["state"] for box in self.boxes.values()}

    async def settle(self, predicate: Any, timeout: float = 15.0) -> dict[str, float]:
        """Until `predicate(offers)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            offers = self.offers()
            if predicate(offers):
                return offers
            if time.monotonic() > deadline:
                views = {
                    name: (status["limit"], sharing(status))
                    for name, status in ((n, b.wallbox.status()) for n, b in self.boxes.items())
                }
                raise AssertionError(f"site did not settle within {timeout} s: {offers}; {views}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def site_of(
    directory: Path,
    broker: Broker,
    names: list[str],
    extra: str,
    site: str = "garage",
    logins: dict[str, tuple[str, str]] | None = None,
) -> AsyncIterator[SiteRig]:
    rig = SiteRig(directory, broker, site, extra, logins)
    try:
        for name in names:
            await rig.add(name)
        yield rig
    finally:
        await rig.close()


@dataclass
class FuseWatch:
    """Samples the sum of what the boxes offer (three-phase boxes: the same on every phase)
    plus the house's load, every 10 ms."""

    rig: SiteRig
    fuse_a: float
    house_a: float = 0.0
    peak_a: float = 0.0
    over: list[tuple[float, float]] = field(default_factory=list)
    held_a: float = 0.0
    """Held for boxes outside the rig (a subprocess peer): counted as drawing it."""

    async def run(self) -> None:
        while True:
            total = sum(self.rig.offers().values()) + self.house_a + self.held_a
            self.peak_a = max(self.peak_a, total)
            if total > self.fuse_a + 0.01:
                self.over.append((time.monotonic(), total))
            await asyncio.sleep(0.01)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[FuseWatch]:
        task = asyncio.create_task(self.run())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
