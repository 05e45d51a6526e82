"""The life of a background job (firmware update, GetDiagnostics, GetLog): accepted, begun
after the answer, canceled by the next, failures logged, stopped at shutdown."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pievse.firmware.single_job import SingleJob


async def test_accept_waits_for_begin_and_a_new_one_cancels_the_old() -> None:
    job = SingleJob("test job")
    log: list[str] = []

    async def work(name: str) -> None:
        log.append(f"{name} started")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append(f"{name} canceled")
            raise

    assert job.accept(lambda: work("first"), "first.log") is False
    await asyncio.sleep(0.01)
    assert log == [] and not job.running, "nothing runs before the CSMS has the answer"
    job.begin("first.log")
    await asyncio.sleep(0.01)
    assert job.running and log == ["first started"]
    assert job.accept(lambda: work("second"), "second.log") is True, "AcceptedCanceled"
    await asyncio.sleep(0.01)
    assert log == ["first started", "first canceled"]
    job.begin("third.log")  # another request's after step: not this job
    await asyncio.sleep(0.01)
    assert log == ["first started", "first canceled"]
    job.begin("second.log")
    job.begin("second.log")  # a second begin starts nothing more
    await asyncio.sleep(0.01)
    assert log == ["first started", "first canceled", "second started"]
    await job.stop()
    assert not job.running and log[-1] == "second canceled"


async def test_a_failure_nobody_awaits_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    job = SingleJob("doomed job")

    async def fail() -> None:
        raise RuntimeError("lost unless logged")

    job.start(fail)
    await asyncio.sleep(0.01)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].getMessage() == "doomed job failed"
    assert "lost unless logged" in str(errors[0].exc_info[1])
    assert not job.running


async def test_the_next_job_begins_once_the_canceled_one_has_cleaned_up() -> None:
    """A canceled update may still be stopping its worker thread and removing its
    half-made release; the next one (the same release, maybe) must not start beside it."""
    job = SingleJob("test job")
    log: list[str] = []

    async def work(name: str) -> None:
        log.append(f"{name} started")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)  # a worker thread seeing its stop flag
            log.append(f"{name} cleaned up")
            raise

    job.start(lambda: work("first"))
    await asyncio.sleep(0.01)
    assert job.start(lambda: work("second")) is True
    assert job.running, "the new job counts as under way at once"
    await asyncio.sleep(0.2)
    assert log == ["first started", "first cleaned up", "second started"]
    await job.stop()
    assert log[-1] == "second cleaned up"
