"""The shipped example configuration is valid and states the defaults."""

from __future__ import annotations

from pathlib import Path

from firmware.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_parses_to_the_defaults() -> None:
    assert load_config(ROOT / "deploy" / "pievse.example.toml") == Config()
