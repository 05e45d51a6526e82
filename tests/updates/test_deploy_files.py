"""The shipped example configuration is valid and states the defaults."""

from __future__ import annotations

from pievse.firmware.config import Config, load_config
from tests.rigs.paths import ROOT


def test_example_config_parses_to_the_defaults() -> None:
    assert load_config(ROOT / "deploy" / "pievse.example.toml") == Config()


def test_the_unit_schedules_the_controller_ahead_of_ordinary_load() -> None:
    lines = (ROOT / "deploy" / "pievse.service").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")
    assert int(settings["Nice"]) < 0, "ahead of processes at nice 0"
    assert int(settings["CPUWeight"]) > 100, "ahead of other services' cgroups"
    assert settings["RestrictRealtime"] == "true"
    assert settings.get("CPUSchedulingPolicy", "other") in ("other", "batch"), (
        "a realtime policy would be refused by RestrictRealtime="
    )
