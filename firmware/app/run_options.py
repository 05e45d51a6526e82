"""What `pievse run` is asked for: the flags, and the config they override key by key."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pievse.firmware.config import Config, Key, key, load_config, with_values

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "pievse"


@dataclass(frozen=True)
class RunOptions:
    board: str = "bench-sim"
    config: Path | None = None
    csms: str | None = None
    charge_point_id: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    api: str | None = None


FLAG_KEYS: dict[str, tuple[str, Key[str]]] = {
    "csms": ("--csms", key(lambda c: c.ocpp.csms_url)),
    "charge_point_id": ("--id", key(lambda c: c.charge_point.id)),
    "api": ("--api", key(lambda c: c.api.listen)),
}
"""RunOptions field -> (flag, the config key it overrides)."""


def overridden_keys(options: RunOptions) -> dict[str, str]:
    """Each key a flag overrides in this run ("<section>.<key>") -> the flag."""
    return {
        f"{named.section}.{named.name}": flag
        for option, (flag, named) in FLAG_KEYS.items()
        if getattr(options, option) is not None
    }


def resolve_config(options: RunOptions) -> Config:
    """The config file with command-line flags applied on top: each flag validated like its
    key and overriding that key only (the rest of its section stays as the file has it)."""
    config = load_config(options.config)
    for option, (flag, overridden) in FLAG_KEYS.items():
        value = getattr(options, option)
        if value is not None:
            config = with_values(config, {overridden: value}, flag)
    return config


@functools.cache
def firmware_version() -> str:
    """Read once: the package's metadata does not change under a running process (an
    update starts another)."""
    try:
        return metadata.version("pievse")
    except metadata.PackageNotFoundError:
        return "unknown"
