"""A HOST:PORT flag's type, for the sub-commands that listen."""

from __future__ import annotations

import argparse

from pievse.firmware.config import parse_listen


def listen_address(value: str) -> tuple[str, int]:
    address = parse_listen(value)
    if address is None:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return address
