"""`pievse demo` as a user runs it: one command, a scripted session against the built-in
central system, the OCPP exchange as a readable timeline, exit 0."""

from __future__ import annotations

import subprocess

from pievse.firmware.demo.timeline import describe
from tests.rigs.process import PIEVSE


def test_the_demo_runs_the_whole_session_and_prints_the_exchange() -> None:
    done = subprocess.run(
        [*PIEVSE, "demo", "--api", "127.0.0.1:0", "--pause", "0.3"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("status page: http://127.0.0.1:")
    wanted = [
        "box -> CSMS  BootNotification ",
        "CSMS -> box  BootNotification.conf  ",
        "box -> CSMS  StartTransaction ",
        "CSMS -> box  SetChargingProfile ",
        'box -> CSMS  SetChargingProfile.conf  {"status": "Accepted"}',
        '"errorCode": "HighTemperature", "status": "Faulted"',
        '"status": "Charging"',
        'box -> CSMS  StopTransaction  {"meterStop"',
        "demo finished: every step happened",
    ]
    at = 0
    for needle in wanted:
        found = next((i for i in range(at, len(lines)) if needle in lines[i]), None)
        assert found is not None, f"{needle!r} not after line {at}:\n{done.stdout}"
        at = found
    assert "Traceback" not in done.stderr


def test_a_bad_pause_is_refused() -> None:
    done = subprocess.run(
        [*PIEVSE, "demo", "--pause", "-1"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "--pause: expected 0..60 s" in done.stderr


def test_the_timeline_names_answers_by_their_call() -> None:
    calls: dict[str, str] = {}
    call = describe('[2,"7","Heartbeat",{}]', "box", "CSMS", calls)
    assert call == "box -> CSMS  Heartbeat  {}"
    answer = describe('[3,"7",{"currentTime":"x"}]', "CSMS", "box", calls)
    assert answer == 'CSMS -> box  Heartbeat.conf  {"currentTime": "x"}'
    error = describe('[4,"9","NotImplemented","no",{}]', "CSMS", "box", calls)
    assert error == "CSMS -> box  ? CALLERROR NotImplemented: no"
    assert "not JSON" in describe("{", "box", "CSMS", calls)
