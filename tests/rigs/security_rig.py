"""Security-profile helpers shared by the security tests: a key, its Basic password, the
config lines of a profile and a CSMS that serves for the length of a block."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tests.rigs.csms import TestCsms
from tests.rigs.pki import Pki

KEY = "00112233445566778899aabbccddeeff0011aabb"
PASSWORD = bytes.fromhex(KEY)


@contextlib.asynccontextmanager
async def serving(csms: TestCsms) -> AsyncIterator[TestCsms]:
    await csms.start()
    try:
        yield csms
    finally:
        await csms.stop()


def security(profile: int, *lines: str, key: str = KEY) -> str:
    return "\n".join([f"profile = {profile}", f'authorization_key = "{key}"', *lines])


def root_file(tmp_path: Path, pki: Pki) -> str:
    path = tmp_path / "csms-root.pem"
    path.write_text(pki.root.pem())
    return f'central_system_root_certificate = "{path}"'


async def registered(csms: TestCsms) -> None:
    await csms.wait_for("BootNotification", timeout=8)
    await csms.wait_status(0, "Available", timeout=8)
