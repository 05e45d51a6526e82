"""Fixtures: a real wallbox in-process (bench-sim board, real SQLite, real HTTP on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pievse.firmware.app.run_options import RunOptions
from pievse.firmware.app.wallbox import Wallbox
from pievse.firmware.clock import Clock
from tests.rigs.csms import TestCsms
from tests.rigs.file_servers import HttpFiles
from tests.rigs.mosquitto import Broker, running_broker
from tests.rigs.paths import ROOT
from tests.rigs.release_rig import Bundles, build

NOBODY = 65534
"""The service user the install tests run install.sh as, when they run as root."""
LONGEST_FIRST = (
    "tests/fleet/test_fleet_runs.py",
    "tests/site/test_day_scenarios.py",
    "tests/updates/test_deploy_install.py",
    "tests/ocpp201/test_firmware_and_logs.py",
    "tests/updates/test_bundle_verification.py",
    "tests/control/test_fault_injection.py",
    "tests/ocpp201/test_fault_injection.py",
    "tests/updates/test_deploy.py",
    "tests/updates/test_firmware_update.py",
    "tests/updates/test_deploy_rollback.py",
    "tests/site/test_site_sharing.py",
)
"""Modules whose tests take minutes (real installs, fleets, whole days, kills), the longest
first. They run before the rest, so the workers share them while the short tests fill the
gaps, instead of one worker finishing them alone at the end of the run."""


def pytest_configure(config: pytest.Config) -> None:
    """One pip cache for every install the tests run (install.sh from a clone as the
    service user, the bundles the update tests build): each of them otherwise downloads
    every dependency again into a home of its own. Owned by the service user when the
    tests run as root, so that its pip may write there too."""
    if "PIP_CACHE_DIR" in os.environ:
        return
    cache = Path(tempfile.gettempdir()) / f"pievse-tests-pip-cache-{os.geteuid()}"
    for part in (cache, cache / "http-v2", cache / "wheels"):
        part.mkdir(mode=0o755, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(part, NOBODY, NOBODY)
    os.environ["PIP_CACHE_DIR"] = str(cache)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    gone = [module for module in LONGEST_FIRST if not (ROOT / module).exists()]
    if gone:
        raise pytest.UsageError(f"LONGEST_FIRST names modules that are gone: {gone}")

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _root_logger_kept() -> Iterator[None]:
    """A test that runs the CLI in-process (`main([...])`) has it set up logging to the
    stderr pytest captured for that test: every later test on that worker would then log
    into a closed stream, each record a "--- Logging error ---" with a stack dump."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


pytest_plugins = ["tests.fakes.rpi_gpio", "tests.fakes.smbus", "tests.fakes.sysfs_pwm"]

FAST_CONFIG = """
[control]
tick_ms = 20
fault_retry_s = 1.0
duty_hold_s = 0.5
suspend_timeout_s = 1.0
contactor_release_s = 0.05

[meter]
poll_interval_s = 0.1
offline_after_failures = 3
"""


class BenchClient:
    """Talks to the running wallbox only through its HTTP API, like an external bench."""

    def __init__(self, http: aiohttp.ClientSession, base: str, wallbox: Wallbox) -> None:
        self.http = http
        self.base = base
        self.wallbox = wallbox
        self.resets: list[str] = []

    async def status(self) -> dict[str, Any]:
        async with self.http.get(f"{self.base}/api/status") as response:
            assert response.status == 200
            return await response.json()

    async def post(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.base}{path}") as response:
            return response.status, await response.json()

    async def put(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.put(f"{self.base}{path}", json=body) as response:
            return response.status, await response.json()

    async def bench(self, action: str, **body: Any) -> dict[str, Any]:
        code, answer = await self.post(f"/api/bench/{action}", body)
        assert code == 200, answer
        return answer

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 3.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status()
            if predicate(status):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; last status: {status}")
            await asyncio.sleep(0.02)

    async def wait_status(
        self, connector: str, status: str, timeout: float = 3.0
    ) -> dict[str, Any]:
        return await self.wait_for(
            lambda s: s["connectors"][connector]["status"] == status, timeout
        )


async def until(predicate: Callable[[], bool], timeout: float = 8.0) -> None:
    """Until `predicate()` holds (polled every 20 ms); fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


def write_config(directory: Path, text: str) -> Path:
    path = directory / "pievse.toml"
    path.write_text(text)
    return path


@pytest.fixture
def config_text() -> str:
    return FAST_CONFIG


@contextlib.asynccontextmanager
async def running_wallbox(
    data: Path, config_text: str, board: str = "bench-sim", clock: Clock | None = None
) -> AsyncIterator[BenchClient]:
    """A wallbox on `data` (its config file and database), reachable over its HTTP API;
    `clock`: an injected one (a `ManualClock` the test moves) instead of the system's."""
    data.mkdir(parents=True, exist_ok=True)
    options = RunOptions(
        board=board,
        config=write_config(data, config_text),
        data_dir=data / "data",
        api="127.0.0.1:0",
    )
    resets: list[str] = []

    async def restart(kind: str) -> None:
        resets.append(kind)

    wallbox = Wallbox(options, clock=clock, restart=restart)
    await wallbox.start()
    assert wallbox.api_address is not None
    host, port = wallbox.api_address
    async with aiohttp.ClientSession() as http:
        client = BenchClient(http, f"http://{host}:{port}", wallbox)
        client.resets = resets
        try:
            # ready once metered; a co-processor's first words can take seconds on a busy host
            await client.wait_for(
                lambda s: s["meter"].get("energy_import_wh") is not None, timeout=15
            )
            yield client
        finally:
            await wallbox.stop()


@pytest.fixture
async def bench(tmp_path: Path, config_text: str) -> AsyncIterator[BenchClient]:
    async with running_wallbox(tmp_path, config_text) as client:
        yield client


def ocpp_config(
    csms: TestCsms,
    extra: str = "",
    security: str = "profile = 0",
    url: str | None = None,
) -> str:
    """`security`: the [security] section's lines (the test CSMS on ws:// asks for no
    credentials unless a test sets them); the OCPP version is the one the CSMS speaks."""
    return (
        FAST_CONFIG
        + f"""
[ocpp]
csms_url = "{url or csms.url}"
version = "{csms.SUBPROTOCOL.removeprefix("ocpp")}"
response_timeout_s = 2
reconnect_min_s = 0.1
reconnect_max_s = 0.5

[security]
{security}
"""
        + extra
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A real mosquitto on a free loopback port."""
    with running_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
async def csms() -> AsyncIterator[TestCsms]:
    server = TestCsms()
    await server.start()
    yield server
    await server.stop()
    assert not server.protocol_errors, f"the CSMS refused frames: {server.protocol_errors}"


@pytest.fixture
async def box(tmp_path: Path, csms: TestCsms) -> AsyncIterator[BenchClient]:
    """A wallbox registered with the test CSMS, both connectors reported Available."""
    async with running_wallbox(tmp_path, ocpp_config(csms)) as client:
        await csms.wait_status(0, "Available")
        await csms.wait_status(1, "Available")
        yield client


async def start_charging(bench: BenchClient, tag: str = "CARD-1") -> dict[str, Any]:
    await bench.bench("ev", state="B")
    await bench.wait_status("1", "Preparing")
    await bench.bench("tag", id_tag=tag)
    await bench.wait_status("1", "SuspendedEV")
    await bench.bench("ev", state="C")
    return await bench.wait_for(
        lambda s: s["connectors"]["1"]["status"] == "Charging" and s["contactor"] == "closed"
    )


async def charge_under_csms(
    box: BenchClient, csms: TestCsms, tag: str = "CARD-1"
) -> dict[str, Any]:
    """EV in C, tag presented, Charging reported; returns the StartTransaction payload."""
    await box.bench("ev", state="C")
    await box.bench("tag", id_tag=tag)
    await csms.wait_status(1, "Charging")
    return await csms.wait_for("StartTransaction")


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    """Release bundles of this project at several versions, built once (about 20 s)."""
    return build(tmp_path_factory.mktemp("bundles"))


@pytest.fixture
async def files() -> AsyncIterator[HttpFiles]:
    """An HTTP server on loopback taking uploads and serving downloads."""
    server = HttpFiles()
    await server.start()
    yield server
    await server.stop()
