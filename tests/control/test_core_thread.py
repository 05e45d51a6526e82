"""The core's thread: its coroutine's end reaches the outside, and while it runs the GIL
changes hands at least every millisecond (a busy outside thread otherwise holds it 5 ms at
each of a reaction's hand-overs)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from pievse.firmware.control.core_thread import SWITCH_INTERVAL_S, CoreThread


@pytest.fixture
def python_switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_the_core_lowers_the_switch_interval_and_reports_its_end(
    python_switch_interval: None,
) -> None:
    async def main() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("core ended")

    thread = CoreThread(main)
    thread.start()
    assert sys.getswitchinterval() <= SWITCH_INTERVAL_S + 1e-9
    with pytest.raises(RuntimeError, match="core ended"):
        thread.done.result(timeout=5)
    thread.join()
