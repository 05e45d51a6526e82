"""AuthorizationKey is write-only: never in GetConfiguration, the logs (frames at DEBUG
included), /api/status, the status DataTransfer or an uploaded diagnostics log; it and the
certificates' keys are stored owner-only."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import aiohttp
import pytest
from ocpp.v16 import call

from pievse.firmware.authorization_key import authorization_password
from pievse.firmware.csms.connection_security import basic_auth_header
from tests.conftest import ocpp_config, running_wallbox, until
from tests.rigs.csms import TestCsms
from tests.rigs.security_rig import KEY, PASSWORD, registered, security, serving

HEX_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4"
PLAINTEXT_KEY = "Plain:Text-Key_17"


def secrets(new_key: str) -> list[str]:
    forms = []
    for key in (KEY, new_key):
        forms += [key, key.upper(), basic_auth_header("pievse-0001", key).split()[1]]
        forms.append(base64.b64encode(authorization_password(key)).decode())
    return forms


@pytest.mark.parametrize("new_key", [HEX_KEY, PLAINTEXT_KEY])
async def test_the_key_is_never_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, new_key: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        serving(TestCsms(password=PASSWORD)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1))) as box,
    ):
        await registered(csms)
        everything = await csms.call(call.GetConfiguration())
        assert "AuthorizationKey" not in {e["key"] for e in everything.configuration_key}
        asked = await csms.call(call.GetConfiguration(key=["AuthorizationKey"]))
        assert asked.unknown_key == ["AuthorizationKey"] and not asked.configuration_key
        csms.password = authorization_password(new_key)
        changed = await csms.call(call.ChangeConfiguration("AuthorizationKey", new_key))
        assert changed.status == "Accepted"
        await until(lambda: len(csms.paths) == 2)  # it reconnects with the new key
        refused = await csms.call(call.ChangeConfiguration("AuthorizationKey", "short"))
        assert refused.status == "Rejected"
        await csms.wait_for("SecurityEventNotification", lambda p: True)
        status_doc = await csms.call(call.DataTransfer("pievse", "Status"))
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{box.base}/api/status") as response,
        ):
            api_text = await response.text()
        diagnostics = "\n".join(
            line
            for line in box.wallbox.diagnostics.text().decode().splitlines()
            if " ocpp: " not in line and " websockets.server: " not in line
        )
    # The test CSMS's own loggers (websockets' server side, the ocpp library's central
    # system) see the credentials by design; everything the box logs must not.
    box_logs = "\n".join(
        f"{r.name} {r.getMessage()}"
        for r in caplog.records
        if not r.name.startswith("websockets.server") and r.name != "ocpp"
    )
    shown = {
        "logs": box_logs,
        "api": api_text,
        "data transfer": status_doc.data,
        "diagnostics log": diagnostics,
    }
    assert "ChangeConfiguration" in box_logs, "the box's frames were logged at DEBUG"
    for where, text in shown.items():
        for secret in secrets(new_key):
            assert secret not in text, f"{where} shows {secret}"
    data = tmp_path / "data"
    for path in [data / "pievse.db", *data.glob("pievse.db-*"), data / "certs"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
