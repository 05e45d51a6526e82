"""Security events reach the CSMS as SecurityEventNotification, also those raised offline or
before a restart, and the security log is persisted, bounded and clearable."""

from __future__ import annotations

import logging
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.conftest import FAST_CONFIG, BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE
from tests.rigs.security_rig import registered, serving


def event(csms: TestCsms, event_type: str, since: int = 0, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    return csms.wait_for(
        "SecurityEventNotification", lambda p: p["type"] == event_type, timeout, since
    )


async def test_startup_reset_tamper_and_invalid_messages(box: BenchClient, csms: TestCsms) -> None:
    started = await event(csms, "StartupOfTheDevice")
    assert started["tech_info"].startswith("pievse ")
    await box.bench("fault", fault="tamper", active=True)
    await event(csms, "TamperDetectionActivated")
    await box.bench("fault", fault="tamper", active=False)
    await csms.send_raw('[2, "x1", "Heartbeat"]')
    invalid = await event(csms, "InvalidMessages")
    assert "malformed frame" in invalid["tech_info"]
    await csms.send_raw('[2, "x2", "ChangeConfiguration", {"key": "HeartbeatInterval"}]')
    await csms.wait_for(
        "SecurityEventNotification",
        lambda p: p["type"] == "InvalidMessages" and "ChangeConfiguration" in p["tech_info"],
    )
    assert (await csms.call(call.Reset("Soft"))).status == "Accepted"
    reset = await event(csms, "ResetOrReboot")
    assert reset["tech_info"] == "Soft reset requested by the CSMS"
    assert box.resets == ["Soft"]


async def test_routine_events_log_at_info_and_alarms_at_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pievse.firmware.security.security_log")
    async with running_wallbox(tmp_path, FAST_CONFIG) as box:
        await box.bench("fault", fault="tamper", active=True)
        await box.wait_for(lambda s: "tamper" in s["faults"])
    levels = {
        record.getMessage().split()[2]: record.levelname
        for record in caplog.records
        if record.name == "pievse.firmware.security.security_log"
    }
    assert levels["StartupOfTheDevice"] == "INFO", "every start: routine"
    assert levels["TamperDetectionActivated"] == "WARNING"


async def test_setting_the_clock_is_an_event(tmp_path: Path) -> None:
    csms = TestCsms()
    csms.script.time_offset = timedelta(hours=2)
    async with serving(csms), running_wallbox(tmp_path, ocpp_config(csms)):
        found = await event(csms, "SettingSystemTime")
        assert "+7200" in found["tech_info"]


async def test_events_raised_offline_and_across_a_restart_arrive_later(tmp_path: Path) -> None:
    csms = TestCsms()
    async with serving(csms):
        config = ocpp_config(csms)
        async with running_wallbox(tmp_path, config) as box:
            await registered(csms)
            await csms.stop()
            await box.wait_for(lambda s: not s["ocpp"]["connected"])
            await box.bench("fault", fault="tamper", active=True)
            await box.wait_for(lambda s: "tamper" in s["faults"])
        mark = len(csms.received)
        await csms.start_on(csms.port)
        async with running_wallbox(tmp_path, config):
            tamper = await event(csms, "TamperDetectionActivated", since=mark, timeout=8)
            startups = [
                p
                for p in csms.of("SecurityEventNotification", mark)
                if p["type"] == "StartupOfTheDevice"
            ]
            assert len(startups) >= 1
            assert tamper["timestamp"] < startups[-1]["timestamp"], "raised before the restart"
            actions = [p["type"] for p in csms.of("SecurityEventNotification", mark)]
            assert actions.index("TamperDetectionActivated") < len(actions) - 1, "in order"


async def test_the_log_is_bounded_and_the_cli_clears_it(tmp_path: Path) -> None:
    csms = TestCsms()
    async with serving(csms):
        config = ocpp_config(csms, security="profile = 0\nsecurity_log_max_entries = 10")
        async with running_wallbox(tmp_path, config) as box:
            await registered(csms)
            for n in range(15):
                await csms.send_raw(f'[2, "bad{n}", "Heartbeat"]')
            await csms.wait_for(
                "SecurityEventNotification",
                lambda p: p["type"] == "InvalidMessages",
                timeout=5,
            )
            kept = box.wallbox.security_log.events()
            assert len(kept) == 10, "the newest ten"
            assert kept[-1].type == "InvalidMessages"
        data_dir = tmp_path / "data"
        listed = subprocess.run(
            [*PIEVSE, "security-log", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert len(listed.stdout.splitlines()) == 10
        assert "InvalidMessages" in listed.stdout
        cleared = subprocess.run(
            [*PIEVSE, "security-log", "--data-dir", str(data_dir), "--clear"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert cleared.stdout.splitlines()[0].split()[2] == "SecurityLogWasCleared"
        assert len(cleared.stdout.splitlines()) == 1
        mark = len(csms.received)
        async with running_wallbox(tmp_path, config):
            await event(csms, "SecurityLogWasCleared", since=mark, timeout=8)


def test_the_cli_without_a_database_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [*PIEVSE, "security-log", "--data-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no database at" in done.stderr
