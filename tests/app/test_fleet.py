"""`pievse fleet` as a user runs it: N boxes with their own ids boot against one CSMS over
the boot spread, each runs its sessions (StartTransaction, MeterValues at the interval asked,
StopTransaction), every frame passing the CSMS's schema checks; bad flags exit 2 with one
line; the session steps and the boxes' configurations are what the flags say."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from pievse.firmware.config import Config, ConfigError
from pievse.firmware.fleet.box_configs import FleetSite, FleetTiming, box_config, box_id
from pievse.firmware.fleet.session_plan import SessionShape, session_steps
from tests.rigs.csms import TestCsms
from tests.rigs.process import PIEVSE


async def test_a_fleet_of_six_boots_spread_out_and_charges_against_one_csms(
    tmp_path: Path, csms: TestCsms
) -> None:
    command = [*PIEVSE, "fleet", "--boxes", "6", "--csms", csms.url, "--boot-over-s", "2"]
    command += ["--session-s", "4", "--idle-s", "2", "--meter-values-s", "1"]
    command += ["--meter-poll-s", "0.5", "--duration-s", "14", "--data-dir", str(tmp_path)]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    headlines = [line for line in out.decode().splitlines() if line.startswith("fleet ")]
    assert "6/6 started, 6 registered" in headlines[0], headlines
    assert ", 0 failed, 0 faulted" in headlines[-1], headlines
    boots = [r for r in csms.received if r.action == "BootNotification"]
    ids = [r.charge_point for r in boots]
    assert sorted(ids) == [f"fleet-{i:04d}" for i in range(1, 7)], "each its own id, once"
    spread = max(r.at for r in boots) - min(r.at for r in boots)
    assert 0.5 < spread < 4.0, f"boots spread over --boot-over-s 2, not at once: {spread:.1f} s"
    per_box = Counter((r.charge_point, r.action) for r in csms.received)
    for box in ids:
        assert per_box[(box, "StartTransaction")] >= 1, box
        assert per_box[(box, "StopTransaction")] >= 1, box
        assert per_box[(box, "MeterValues")] >= 2, "MeterValueSampleInterval 1 s"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ids), "a data dir each"
    assert "further messages like this one are not shown" in err.decode()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--boxes", "0"], "--boxes: expected 1..5000"),
        (["--boxes", "2", "--site", "garage"], "--site: the boxes share a site over --mqtt"),
        (["--boxes", "2", "--mqtt", "mqtt://127.0.0.1"], "--mqtt: only with --site"),
        (["--boxes", "2", "--tick-ms", "5"], "[control] tick_ms: expected 10..1000"),
        (["--boxes", "2", "--session-s", "0"], "--session-s: expected at least 1"),
    ],
)
def test_bad_fleet_flags_exit_2_with_one_line(flags: list[str], message: str) -> None:
    result = subprocess.run(
        [*PIEVSE, "fleet", "--csms", "ws://127.0.0.1:9/ocpp", *flags],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_a_bad_csms_url_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"\[ocpp\] csms_url"):
        box_config(Config(), "fleet-0001", "http://x", FleetTiming(), None)


def test_each_box_gets_its_id_the_csms_timing_and_the_site() -> None:
    site = FleetSite("garage", "mqtt://127.0.0.1:1883", 63.0, 20)
    config = box_config(Config(), box_id("lt-", 41), "ws://127.0.0.1:9/ocpp", FleetTiming(), site)
    assert config.charge_point.id == "lt-0042"
    assert config.ocpp.csms_url == "ws://127.0.0.1:9/ocpp"
    assert (config.control.tick_ms, config.meter.poll_interval_s) == (500, 10.0)
    assert (config.site.id, config.site.main_fuse_a, config.site.max_boxes) == ("garage", 63.0, 20)
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert config.api.listen == "127.0.0.1:0"


def test_scripted_sessions_repeat_and_random_ones_repeat_for_the_same_seed() -> None:
    shape = SessionShape(charge_s=30.0, idle_s=10.0)
    scripted = list(itertools.islice(session_steps("scripted", "T", shape, 1), 10))
    assert [(s.action, s.value) for s in scripted[:5]] == [
        ("ev", "B"), ("tag", "T"), ("ev", "C"), ("ev", "B"), ("ev", "A"),
    ]  # fmt: skip
    assert scripted[3].delay_s == 30.0 and scripted[5].delay_s == 10.0
    first = list(itertools.islice(session_steps("random", "T", shape, 7), 50))
    again = list(itertools.islice(session_steps("random", "T", shape, 7), 50))
    other = list(itertools.islice(session_steps("random", "T", shape, 8), 50))
    assert first == again and first != other
    assert all(s.delay_s >= 0 for s in first)
    assert list(session_steps("none", "T", shape, 1)) == []
    with pytest.raises(ValueError, match="sessions: expected one of"):
        next(session_steps("burst", "T", shape, 1))
