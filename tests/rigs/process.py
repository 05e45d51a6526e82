"""`pievse` as a separate process, the way a user or systemd starts it."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

PIEVSE = [sys.executable, "-m", "pievse.firmware.cli.commands"]


def run_with_csms(csms_url: str, data_dir: Path, api_port: int, version: str = "1.6") -> list[str]:
    """The `pievse run` command line of a box registered with a CSMS (security profile 0:
    the test CSMS asks for no credentials), speaking OCPP `version`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "security.toml"
    config.write_text(f'[security]\nprofile = 0\n\n[ocpp]\nversion = "{version}"\n')
    return [
        *PIEVSE,
        "run",
        "--config",
        str(config),
        "--csms",
        csms_url,
        "--data-dir",
        str(data_dir),
        "--api",
        f"127.0.0.1:{api_port}",
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
