"""Security profiles 0-3 against real TLS servers on loopback, with certificates made in
the tests: Basic auth right and wrong, trusted / untrusted / expired / wrong-host server
certificates, TLS 1.1 and foreign cipher suites refused, mutual TLS, the upgrade of a
profile over OCPP and the fallback when the new one cannot connect."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from ocpp.v16 import call

from pievse.firmware.authorization_key import authorization_password
from pievse.firmware.config import ConfigError
from tests.conftest import BenchClient, ocpp_config, running_wallbox
from tests.rigs.csms import TestCsms
from tests.rigs.pki import Pki, server_context
from tests.rigs.security_rig import KEY, PASSWORD, registered, root_file, security, serving


async def security_events(box: BenchClient, event_type: str, timeout: float = 5.0) -> list[str]:
    """The tech info of `event_type` events in the box's own security log."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [e.tech_info for e in box.wallbox.security_log.events() if e.type == event_type]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


# --- profile 1 -----------------------------------------------------------------------------


async def test_profile_1_sends_the_key_bytes_as_the_basic_password(tmp_path: Path) -> None:
    async with (
        serving(TestCsms(password=PASSWORD)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1))) as box,
    ):
        await registered(csms)
        assert not csms.refused
        assert (await box.status())["ocpp"]["security_profile"] == 1


async def test_profile_1_with_a_wrong_password_is_refused_and_recorded(tmp_path: Path) -> None:
    async with (
        serving(TestCsms(password=b"\x01" * 16)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1))) as box,
    ):
        found = await security_events(box, "FailedToAuthenticateAtCentralSystem")
        assert found == ["the CSMS answered HTTP 401"], "recorded once, not per retry"
        await asyncio.sleep(0.5)
        assert len(csms.refused) >= 2, "it keeps trying"
        assert not csms.of("BootNotification")
        status = await box.status()
        assert status["ocpp"]["connected"] is False


async def test_profile_1_with_a_plaintext_key_sends_it_as_it_is(tmp_path: Path) -> None:
    plaintext = "s3cret-password-17"
    async with (
        serving(TestCsms(password=plaintext.encode())) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1, key=plaintext))) as box,
    ):
        await registered(csms)
        assert not csms.refused
        assert (await box.status())["ocpp"]["security_profile"] == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789abcdef0123456789abcdef", "Accepted"),  # 32 hex digits: 16 bytes
        ("plaintext-16char", "Accepted"),
        ("plaintext-20-chars!!", "Accepted"),
        ("plaintext-15chr", "Rejected"),  # one short
        ("plaintext-21-chars!!!", "Rejected"),
        ("0123456789abcdef0123456789abcdef012345678", "Rejected"),  # 41 hex digits
        ("0123456789abcdef0123456789abcdef0123456789", "Rejected"),  # 42: 21 bytes
        ("plaintext-\u00e9-16ch", "Rejected"),  # not ASCII
    ],
)
async def test_authorization_key_takes_hex_or_a_plaintext_password(
    tmp_path: Path, value: str, expected: str
) -> None:
    """OCTT TC_085's reading: 32..40 hex digits are bytes, 16..20 characters a password."""
    value = value.encode().decode("unicode_escape")
    async with (
        serving(TestCsms(password=PASSWORD)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1))),
    ):
        await registered(csms)
        csms.password = authorization_password(value) if expected == "Accepted" else PASSWORD
        mark = len(csms.received)
        answer = await csms.call(call.ChangeConfiguration("AuthorizationKey", value))
        assert answer.status == expected
        if expected == "Accepted":
            await csms.wait_status(0, "Available", since=mark, timeout=8)
            assert len(csms.paths) == 2 and not csms.refused, "reconnected with the new key"


def test_a_key_of_neither_form_in_the_config_file_does_not_start(tmp_path: Path) -> None:
    config = ocpp_config(TestCsms(), security=security(1, key="too-short"))
    with pytest.raises(ConfigError, match=r"authorization_key: expected empty, or 32 to 40 hex"):
        asyncio.run(_start(tmp_path, config))


@pytest.mark.parametrize(
    ("lines", "profile", "warned"),
    [("", 0, True), (f'authorization_key = "{KEY}"', 1, False)],
)
async def test_a_ws_url_without_a_profile_takes_0_without_a_key_and_1_with_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lines: str, profile: int, warned: bool
) -> None:
    async with (
        serving(TestCsms(password=PASSWORD if profile else None)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=lines)) as box,
    ):
        await registered(csms)
        assert (await box.status())["ocpp"]["security_profile"] == profile
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("security profile 0" in w for w in warnings) is warned


def test_profile_1_without_a_key_does_not_start(tmp_path: Path) -> None:
    config = ocpp_config(TestCsms(), security="profile = 1")
    with pytest.raises(ConfigError, match=r"profile 1 needs an AuthorizationKey"):
        asyncio.run(_start(tmp_path, config))


async def _start(tmp_path: Path, config: str) -> None:
    async with running_wallbox(tmp_path, config):
        pass


# --- profile 2 -----------------------------------------------------------------------------


async def test_profile_2_trusts_the_installed_root_and_checks_the_host(tmp_path: Path) -> None:
    pki = Pki()
    tls = server_context(tmp_path, pki.server())
    async with serving(TestCsms(tls=tls, password=PASSWORD)) as csms:
        config = ocpp_config(csms, security=security(2, root_file(tmp_path, pki)))
        async with running_wallbox(tmp_path, config) as box:
            await registered(csms)
            assert csms.client_certificates == [None], "profile 2: no client certificate"
            assert (await box.status())["ocpp"]["url"].startswith("wss://127.0.0.1:")


async def refused_at_profile_2(
    tmp_path: Path, pki: Pki, tls: ssl.SSLContext, event: str, reason: str
) -> None:
    """A box trusting `pki` connects to a CSMS serving `tls`: it records `event` with
    `reason` and says nothing to that server."""
    async with serving(TestCsms(tls=tls, password=PASSWORD)) as csms:
        config = ocpp_config(csms, security=security(2, root_file(tmp_path, pki)))
        async with running_wallbox(tmp_path, config) as box:
            found = await security_events(box, event)
            assert found and reason in found[0], found
            assert not csms.of("BootNotification"), "nothing was said to that server"


@pytest.mark.parametrize(
    ("server", "event", "reason"),
    [
        ("untrusted", "InvalidCentralSystemCertificate", "unable to get local issuer"),
        ("expired", "InvalidCentralSystemCertificate", "certificate has expired"),
        ("wrong_host", "CentralSystemFailedToAuthenticate", "not valid for '127.0.0.1'"),
    ],
)
async def test_profile_2_refuses_a_bad_server_certificate(
    tmp_path: Path, server: str, event: str, reason: str
) -> None:
    pki = Pki()
    issued = {
        "untrusted": lambda: Pki("Someone Else").server(),
        "expired": lambda: pki.server(days=(-30, -1)),
        "wrong_host": lambda: pki.server(host="192.0.2.7"),
    }[server]()
    await refused_at_profile_2(tmp_path, pki, server_context(tmp_path, issued), event, reason)


@pytest.mark.parametrize(
    ("kind", "event", "reason"),
    [
        ("tls11", "InvalidTLSVersion", "the CSMS offers TLSv1.1"),
        ("cbc", "InvalidTLSCipherSuite", "ECDHE-ECDSA-AES128-SHA"),
    ],
)
async def test_profile_2_refuses_old_tls_and_foreign_suites(
    tmp_path: Path, kind: str, event: str, reason: str
) -> None:
    pki = Pki()
    if kind == "tls11":
        tls = server_context(tmp_path, pki.server(), max_version=ssl.TLSVersion.TLSv1_1)
    else:
        tls = server_context(tmp_path, pki.server(), ciphers="ECDHE-ECDSA-AES128-SHA")
    await refused_at_profile_2(tmp_path, pki, tls, event, reason)


# --- profile 3 -----------------------------------------------------------------------------


async def test_profile_3_connects_with_its_client_certificate(tmp_path: Path) -> None:
    pki = Pki()
    client = pki.client("pievse-0001")
    chain, key = client.write(tmp_path, "factory")
    tls = server_context(tmp_path, pki.server(), client_roots=pki)
    async with serving(TestCsms(tls=tls)) as csms:
        lines = [
            root_file(tmp_path, pki),
            f'charge_point_certificate = "{chain}"',
            f'charge_point_key = "{key}"',
        ]
        async with running_wallbox(tmp_path, ocpp_config(csms, security=security(3, *lines))):
            await registered(csms)
            shown = x509.load_der_x509_certificate(csms.client_certificates[0])
            assert shown.serial_number == client.certificate.serial_number


async def test_a_server_asking_for_a_client_certificate_refuses_a_box_without_one(
    tmp_path: Path,
) -> None:
    pki = Pki()
    tls = server_context(tmp_path, pki.server(), client_roots=pki)
    async with serving(TestCsms(tls=tls, password=PASSWORD)) as csms:
        config = ocpp_config(csms, security=security(2, root_file(tmp_path, pki)))
        async with running_wallbox(tmp_path, config) as box:
            found = await security_events(box, "FailedToAuthenticateAtCentralSystem")
            assert found == ["the CSMS closed the TLS connection"]
            assert not csms.of("BootNotification")


def test_profile_3_without_a_certificate_does_not_start(tmp_path: Path) -> None:
    pki = Pki()
    config = ocpp_config(TestCsms(), security=security(3, root_file(tmp_path, pki)))
    with pytest.raises(ConfigError, match="profile 3 needs a valid charge point certificate"):
        asyncio.run(_start(tmp_path, config))


# --- upgrade and fallback ------------------------------------------------------------------


async def test_the_csms_raises_the_profile_from_1_to_2(tmp_path: Path) -> None:
    pki = Pki()
    plain = TestCsms(password=PASSWORD)
    secure = TestCsms(tls=server_context(tmp_path, pki.server()), password=PASSWORD)
    async with serving(plain), serving(secure):
        config = ocpp_config(plain, security=security(1, f'csms_url_tls = "{secure.url}"'))
        async with running_wallbox(tmp_path, config) as box:
            await registered(plain)
            too_early = await plain.call(call.ChangeConfiguration("SecurityProfile", "2"))
            assert too_early.status == "Rejected", "no Central System root installed yet"
            installed = await plain.call(
                call.InstallCertificate("CentralSystemRootCertificate", pki.root.pem())
            )
            assert installed.status == "Accepted"
            raised = await plain.call(call.ChangeConfiguration("SecurityProfile", "2"))
            assert raised.status == "Accepted"
            await secure.wait_status(0, "Available", timeout=8)
            assert not secure.of("BootNotification"), "registration outlives the socket"
            answer = await secure.call(call.GetConfiguration(key=["SecurityProfile"]))
            assert answer.configuration_key[0]["value"] == "2"
            lowered = await secure.call(call.ChangeConfiguration("SecurityProfile", "1"))
            assert lowered.status == "Rejected", "never lowered over OCPP (A00.FR.005)"
            events = await secure.wait_for(
                "SecurityEventNotification",
                lambda p: p["type"] == "ReconfigurationOfSecurityParameters",
            )
            assert "SecurityProfile 2" in events["tech_info"]
            assert (await box.status())["ocpp"]["security_profile"] == 2
        async with running_wallbox(tmp_path, config) as box:
            assert (await box.status())["ocpp"]["security_profile"] == 2, "kept after a restart"


async def test_a_new_profile_that_cannot_connect_falls_back(tmp_path: Path) -> None:
    pki = Pki()
    plain = TestCsms(password=PASSWORD)
    impostor = TestCsms(tls=server_context(tmp_path, Pki("Impostor").server()), password=PASSWORD)
    async with serving(plain), serving(impostor):
        config = ocpp_config(
            plain,
            security=security(1, f'csms_url_tls = "{impostor.url}"', "upgrade_attempts = 2"),
        )
        async with running_wallbox(tmp_path, config) as box:
            await registered(plain)
            await plain.call(
                call.InstallCertificate("CentralSystemRootCertificate", pki.root.pem())
            )
            mark = len(plain.received)
            raised = await plain.call(call.ChangeConfiguration("SecurityProfile", "2"))
            assert raised.status == "Accepted"
            back = await plain.wait_for(
                "SecurityEventNotification",
                lambda p: "back to 1" in p.get("tech_info", ""),
                since=mark,
                timeout=15,
            )
            assert back["type"] == "ReconfigurationOfSecurityParameters"
            refused = plain.of("SecurityEventNotification", mark)
            assert any(p["type"] == "InvalidCentralSystemCertificate" for p in refused)
            answer = await plain.call(call.GetConfiguration(key=["SecurityProfile"]))
            assert answer.configuration_key[0]["value"] == "1"
            assert (await box.status())["ocpp"]["security_profile"] == 1
            assert not impostor.of("BootNotification") and not impostor.of("StatusNotification")


async def test_a_new_authorization_key_is_used_from_the_next_connection(tmp_path: Path) -> None:
    new_key = "ffeeddccbbaa99887766554433221100"
    async with (
        serving(TestCsms(password=PASSWORD)) as csms,
        running_wallbox(tmp_path, ocpp_config(csms, security=security(1))),
    ):
        await registered(csms)
        csms.password = bytes.fromhex(new_key)
        mark = len(csms.received)
        answer = await csms.call(call.ChangeConfiguration("AuthorizationKey", new_key))
        assert answer.status == "Accepted"
        await csms.wait_status(0, "Available", since=mark, timeout=8)
        assert len(csms.paths) == 2, "reconnected once, with the new key"
        assert not csms.refused
