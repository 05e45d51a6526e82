"""Rollback across a schema migration, end to end: a box installed with deploy/install.sh
charges, takes a signed update whose release carries one more (additive) migration and never
registers, goes back to its own release, and that release starts on the migrated database
and charges again with every session kept."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from ocpp.v16 import call

from pievse.firmware.persistence.migrations import MIGRATIONS
from tests.conftest import ocpp_config
from tests.rigs.csms import TestCsms, now_iso
from tests.rigs.file_servers import HttpFiles
from tests.rigs.process import free_port
from tests.rigs.release_rig import BASE, NEVER_REGISTERS, Bundles, install


@contextlib.asynccontextmanager
async def box_from_release(
    prefix: Path, bundles: Bundles, csms: TestCsms
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """`pievse run` from the installed release, as the unit starts it; yields its API base."""
    maker = prefix / "etc/pievse/maker.pem"
    maker.write_text(bundles.maker.root.pem())
    config = prefix / "etc/pievse/pievse.toml"
    config.write_text(
        ocpp_config(csms, security=f'profile = 0\nmanufacturer_root_certificate = "{maker}"')
        + f'\n[firmware]\ninstall_root = "{prefix}/opt/pievse"\n'
        + "verify_timeout_s = 6\nretries = 1\nretry_interval_s = 1\n"
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "VIRTUAL_ENV")}
    with (prefix / "box.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(prefix / "opt/pievse/current/venv/bin/pievse"),
            *("run", "--config", str(config), "--data-dir", str(prefix / "var/lib/pievse")),
            *("--api", f"127.0.0.1:{port}"),
            stdout=log,
            stderr=log,
            env=env,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 15)
        if process.returncode is None:
            process.kill()
            await process.wait()


async def charge_once(http: aiohttp.ClientSession, base: str, csms: TestCsms, tag: str) -> None:
    """Plug in, present a tag, charge, unplug: one whole session on the wire."""
    mark = len(csms.received)
    for path, body in (("ev", {"state": "C"}), ("tag", {"id_tag": tag})):
        async with http.post(f"{base}/api/bench/{path}", json=body) as response:
            assert response.status == 200, await response.text()
    await csms.wait_for("StartTransaction", lambda p: p["id_tag"] == tag, 30, mark)
    await csms.wait_status(1, "Charging", since=mark, timeout=30)
    async with http.post(f"{base}/api/bench/ev", json={"state": "A"}) as response:
        assert response.status == 200
    await csms.wait_for("StopTransaction", timeout=30, since=mark)


def boots(csms: TestCsms) -> list[str]:
    versions = [p["firmware_version"] for p in csms.of("BootNotification")]
    return [v for n, v in enumerate(versions) if n == 0 or versions[n - 1] != v]


@pytest.mark.timeout(600)
async def test_a_rollback_across_a_migration_keeps_charging_and_every_session(
    tmp_path: Path, bundles: Bundles, csms: TestCsms, files: HttpFiles
) -> None:
    files.serve[f"{NEVER_REGISTERS}.bundle"] = bundles.path(NEVER_REGISTERS).read_bytes()
    csms.script.reject_firmware = {NEVER_REGISTERS}
    prefix = tmp_path / "root"
    await asyncio.to_thread(install, prefix, bundles.path(BASE))
    async with (
        box_from_release(prefix, bundles, csms) as (base, process),
        aiohttp.ClientSession() as http,
    ):
        await csms.wait_for("BootNotification", lambda p: p["firmware_version"] == BASE, 30)
        await csms.wait_status(0, "Available", timeout=30)
        await charge_once(http, base, csms, "BEFORE-UPDATE")
        mark = len(csms.received)
        firmware = {
            "location": f"{files.base}/files/{NEVER_REGISTERS}.bundle",
            "retrieveDateTime": now_iso(),
            "signingCertificate": bundles.signer.pem(),
            "signature": bundles.signature(NEVER_REGISTERS),
        }
        await csms.call(call.SignedUpdateFirmware(request_id=7, firmware=firmware))
        await csms.wait_for(
            "SignedFirmwareStatusNotification",
            lambda p: p["status"] == "InstallationFailed",
            240,
            mark,
        )
        assert boots(csms) == [BASE, NEVER_REGISTERS, BASE]
        assert process.returncode is None, "the old release runs on the migrated database"
        await csms.wait_status(0, "Available", since=mark, timeout=30)
        await charge_once(http, base, csms, "AFTER-ROLLBACK")
    database = sqlite3.connect(prefix / "var/lib/pievse/pievse.db")
    try:
        version = database.execute("PRAGMA user_version").fetchone()[0]
        tags = [row[0] for row in database.execute("SELECT id_tag FROM sessions ORDER BY id")]
        columns = {row[1] for row in database.execute("PRAGMA table_info(sessions)")}
    finally:
        database.close()
    assert version == len(MIGRATIONS) + 1, "the database stays at the newer release's schema"
    assert "tariff" in columns, "the newer release's column is there"
    assert tags == ["BEFORE-UPDATE", "AFTER-ROLLBACK"]
