"""A 2.0.1 CSMS on loopback and a box registered with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms201 import TestCsms201


@pytest.fixture
async def csms() -> AsyncIterator[TestCsms201]:
    server = TestCsms201()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def box(tmp_path: Path, csms: TestCsms201) -> AsyncIterator[BenchClient]:
    async with running_wallbox(tmp_path, ocpp_config(csms)) as client:
        await csms.wait_status(1, "Available")
        yield client
