"""The pilot co-processor: its firmware in the real MicroPython interpreter (the unix port
from PyPI, with a fake `machine`), and the host driver talking to that firmware end to end
over a pty line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from pievse.hal import pilot_protocol as proto
from pievse.hal.devices.pilot_coprocessor import (
    CoprocessorContactor,
    CoprocessorError,
    CoprocessorPilot,
    CoprocessorRcd,
    PilotCoprocessor,
)
from pievse.hal.interfaces import PilotState
from pievse.hal.ports import HardwareUnavailable
from pievse.hal.sim.serial_wire import SerialWire
from tests.conftest import until
from tests.rigs.micropython_port import ROOT, Pico, micropython, running_pico


def test_the_firmware_rules_in_micropython() -> None:
    process = micropython(ROOT / "tests/micropython/pilot_logic_cases.py")
    output, _ = process.communicate(timeout=60)
    print(output)
    assert process.returncode == 0, output
    assert output.count("ok test_") >= 14


def test_frames_agree_between_the_two_interpreters(tmp_path: Path) -> None:
    """What MicroPython builds, CPython reads, and the other way round (CRC included)."""
    from_host = proto.encode(9, proto.SET_PILOT, (533).to_bytes(2, "big"))
    script = tmp_path / "frames.py"
    script.write_text(
        "import sys, binascii, pilot_protocol as p\n"
        "r = p.FrameReader()\n"
        "print(r.feed(binascii.unhexlify(sys.argv[1])), r.bad_frames)\n"
        "s = p.status_payload('C', 5950, -11980, 267, 0x1B, 0, 2, 1)\n"
        "print(binascii.hexlify(p.encode(200, p.STATUS, s)).decode())\n"
    )
    process = micropython(script, from_host.hex())
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    parsed, built = output.strip().splitlines()
    assert parsed == "[(9, 3, b'\\x02\\x15')] 0"
    reader = proto.FrameReader()
    ((seq, kind, payload),) = reader.feed(bytes.fromhex(built))
    assert (seq, kind) == (200, proto.STATUS)
    assert proto.parse_status(payload) == ("C", 5950, -11980, 267, 0x1B, 0, 2, 1)


@pytest.fixture
def pico(tmp_path: Path) -> Iterator[Pico]:
    with running_pico(tmp_path) as pico:
        yield pico


@contextlib.asynccontextmanager
async def host(pico: Pico, heartbeat: bool = True) -> AsyncIterator[PilotCoprocessor]:
    """The host driver on the line, with heartbeats at the control loop's 100 ms."""
    co = PilotCoprocessor(pico.wire.a_path, handshake_s=5.0)
    co.watch(lambda: None)
    contactor = CoprocessorContactor(co)

    async def beat() -> None:
        while True:
            contactor.keep_alive()
            await asyncio.sleep(0.1)

    task = asyncio.create_task(beat()) if heartbeat else None
    try:
        yield co
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        co.close()


async def test_handshake_and_safe_start(pico: Pico) -> None:
    async with host(pico) as co:
        assert co.firmware_version == "1.0.0"
        sample = CoprocessorPilot(co).sample()
        assert sample.state == PilotState.A
        assert sample.high_v == pytest.approx(12.0, abs=0.2)
        assert not sample.pwm_active
        assert not CoprocessorContactor(co).is_closed()


async def test_a_charging_cycle_and_the_co_processor_dropping_on_its_own(pico: Pico) -> None:
    async with host(pico) as co:
        pilot, contactor = CoprocessorPilot(co), CoprocessorContactor(co)
        pico.ev("B")
        await until(lambda: pilot.sample().state == PilotState.B)
        pilot.set_duty(26.7)  # 16 A
        await until(lambda: pilot.sample().pwm_active)
        sample = pilot.sample()
        # sampled in the middle of each phase: the high level and the diode's -12 V
        assert sample.high_v == pytest.approx(9.0, abs=0.3)
        assert sample.low_v == pytest.approx(-12.0, abs=0.3)
        assert sample.diode_ok
        assert co.status().duty_permille == 267
        pico.ev("C")
        await until(lambda: pilot.sample().state == PilotState.C)
        contactor.close()
        await until(contactor.is_closed)
        pico.ev("A")  # unplugged under load; the host does nothing
        await until(lambda: not contactor.is_closed(), timeout=1.0)
        assert co.status().trip == proto.TRIP_PILOT
        assert contactor.commanded_closed, "the co-processor acted on its own"


async def test_a_missing_diode_drops_the_contactor(pico: Pico) -> None:
    async with host(pico) as co:
        pilot, contactor = CoprocessorPilot(co), CoprocessorContactor(co)
        pico.ev("C")
        pilot.set_duty(50.0)
        await until(lambda: pilot.sample().state == PilotState.C and pilot.sample().pwm_active)
        contactor.close()
        await until(contactor.is_closed)
        pico.ev("C", "nodiode")
        await until(lambda: not contactor.is_closed(), timeout=1.0)
        assert not pilot.sample().diode_ok
        assert co.status().trip == proto.TRIP_DIODE


async def test_an_rcd_trip_and_the_self_test(pico: Pico) -> None:
    async with host(pico) as co:
        rcd, contactor, pilot = CoprocessorRcd(co), CoprocessorContactor(co), CoprocessorPilot(co)
        assert await rcd.self_test(), "the test current trips the module, then it releases"
        pico.ev("C")
        pilot.set_duty(50.0)
        await until(lambda: pilot.sample().pwm_active and pilot.sample().state == PilotState.C)
        contactor.close()
        await until(contactor.is_closed)
        pico.ev("C", "rcd")
        await until(rcd.tripped, timeout=1.0)
        assert not contactor.is_closed()
        assert co.status().trip == proto.TRIP_RCD


async def test_when_the_heartbeats_stop_the_co_processor_goes_safe(pico: Pico) -> None:
    async with host(pico, heartbeat=False) as co:
        pilot, contactor = CoprocessorPilot(co), CoprocessorContactor(co)
        pico.ev("C")
        pilot.set_duty(50.0)

        async def alive_until(predicate: Callable[[], bool], what: str) -> None:
            """Heartbeats while waiting, however slowly a loaded machine gets there."""
            deadline = time.monotonic() + 5.0
            while not predicate():
                assert time.monotonic() < deadline, what
                contactor.keep_alive()
                await asyncio.sleep(0.05)

        await alive_until(
            lambda: pilot.sample().state == PilotState.C and pilot.sample().pwm_active,
            "the EV in C with the PWM running (its diode seen)",
        )
        contactor.close()
        await alive_until(contactor.is_closed, "the contactor closed")
        for _ in range(5):  # alive for a while, then the host "hangs"
            contactor.keep_alive()
            await asyncio.sleep(0.05)
        assert contactor.is_closed()
        hung_at = time.monotonic()
        await until(lambda: co.status().has(proto.FLAG_HOST_LOST), timeout=2.0)
        waited = time.monotonic() - hung_at
        assert not co.status().has(proto.FLAG_CONTACTOR_ENABLED), "dropped with the same step"
        # the mirror contact is measured, a loop later than the enable output changed
        await until(lambda: not co.status().has(proto.FLAG_CONTACTOR_CLOSED), timeout=0.3)
        status = co.status()
        assert status.duty_permille == proto.DUTY_STEADY_HIGH, "no offer without a host"
        assert status.trip == proto.TRIP_HEARTBEAT
        assert proto.HEARTBEAT_TIMEOUT_MS / 1000 - 0.1 < waited < 1.0


async def test_garbage_on_the_line_is_counted_and_ignored(pico: Pico) -> None:
    async with host(pico) as co:
        before = co.status().bad_frames
        with open(pico.wire.a_path, "wb", buffering=0) as line:
            line.write(b"\xa5\x5a\x01\x04\x01\x01\x00\x00")  # SET_CONTACTOR with a bad CRC
            line.write(b"noise\xa5\xa5\x5a\xff")
        await until(lambda: co.status().bad_frames > before)
        assert not CoprocessorContactor(co).is_closed()
        CoprocessorPilot(co).set_duty(30.0)
        await until(lambda: co.status().duty_permille == 300)


def test_no_answer_fails_loudly() -> None:
    wire = SerialWire()
    try:
        started = time.monotonic()
        with pytest.raises(HardwareUnavailable, match="no answer from the pilot co-processor"):
            PilotCoprocessor(wire.a_path, handshake_s=0.5)
        assert time.monotonic() - started < 2.0
    finally:
        wire.close()


def test_another_protocol_version_fails_loudly() -> None:
    wire = SerialWire()
    stop = threading.Event()

    def old_firmware() -> None:
        with open(wire.b_path, "r+b", buffering=0) as line:
            reader = proto.FrameReader()
            while not stop.is_set():
                if not select.select([line], [], [], 0.05)[0]:
                    continue
                for _seq, kind, _payload in reader.feed(os.read(line.fileno(), 64)):
                    if kind == proto.HELLO:
                        status = proto.status_payload("A", 12000, 12000, 1000, 8, 0, 0, 0)
                        line.write(proto.encode(1, proto.HELLO_ACK, b"\x09" + b"0.9.0"))
                        line.write(proto.encode(2, proto.STATUS, status))

    thread = threading.Thread(target=old_firmware, daemon=True)
    thread.start()
    try:
        with pytest.raises(HardwareUnavailable, match=r"speaks protocol 9 .*flash-pilot"):
            PilotCoprocessor(wire.a_path, handshake_s=2.0)
    finally:
        stop.set()
        thread.join(timeout=2)
        wire.close()


async def test_a_silent_co_processor_is_an_error_not_a_reading(pico: Pico) -> None:
    async with host(pico) as co:
        pilot = CoprocessorPilot(co)
        assert pilot.sample().state == PilotState.A
        pico.process.kill()
        await asyncio.sleep(0.8)
        with pytest.raises(CoprocessorError, match="no status from the pilot co-processor"):
            pilot.sample()
