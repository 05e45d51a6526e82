"""How the box connects to the CSMS under the OCPP 1.6 Security Whitepaper's profiles:

- 0: ws://, nobody proves anything (only when the config file says so);
- 1: ws://, the box proves itself with HTTP Basic (charge point id, AuthorizationKey);
- 2: wss:// (TLS >= 1.2), HTTP Basic; the CSMS proves itself with its certificate, checked
  against the installed CentralSystemRootCertificates and the host name;
- 3: wss://, the box proves itself with its client certificate (SignCertificate,
  CertificateSigned), the CSMS as in 2.

AuthorizationKey is 16 to 20 bytes written as 32 to 40 hex digits (the Basic password is those
bytes, not the digits) or a plaintext password of 16 to 20 characters (`authorization_key`).
The CSMS may raise SecurityProfile, never lower it (A00.FR.005; the config file may), and may
set a new AuthorizationKey. Either change is tried on the next
connections; once one succeeds it is committed, and if `attempts` in a row fail the old
profile and key come back, with a security event. The committed pair is persisted, so a
restart during the trial still knows what to fall back to.

On 2.0.1 the URL and profile come from the network connection profile in use (`Endpoints`:
2.0.1's network profiles, B09/B10): the slot's profile is the one connected with, a slot
whose credentials the box lacks is passed over, and a failed attempt counts towards the
slot's fallback instead of a trial's. The committed pair stays 1.6's (slot 1 is made from it).

A failed connection is classified into the whitepaper's security events (a refused
certificate, a lower TLS version or another cipher suite, a refused password). The server's
alert rarely says which, so after a TLS handshake the server broke off, a probe handshake
that sends nothing learns what the server speaks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import InvalidStatus

from pievse.firmware.authorization_key import FORMS as AUTHORIZATION_KEY_FORMS
from pievse.firmware.authorization_key import authorization_password
from pievse.firmware.csms.configuration_keys import ConfigurationKeys
from pievse.firmware.csms.key_table import AUTHORIZATION_KEY, SECURITY_PROFILE
from pievse.firmware.persistence.store import Store
from pievse.firmware.security.certificate_store import CENTRAL_SYSTEM_ROOT, CertificateStore
from pievse.firmware.security.endpoints import Endpoints
from pievse.firmware.security.security_log import SecurityLog

log = logging.getLogger(__name__)

TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
)
"""The whitepaper's suites for TLS 1.2 (ECDSA, and RSA for systems with RSA keys); TLS 1.3
suites are all AEAD and stay as OpenSSL offers them."""
HOST_MISMATCH_CODES = (62, 64)
"""X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH."""
COMMITTED = "security:committed"
CONFIG_SEEN = "security:config:{}"
PROBE_TIMEOUT_S = 5.0


class SecurityConfigError(ValueError):
    """The configuration cannot give the profile it names; the message says what is missing."""


@dataclass(frozen=True)
class Credentials:
    profile: int
    authorization_key: str
    """Hex digits; "" when none is set."""


@dataclass(frozen=True)
class ConnectOptions:
    credentials: Credentials
    url: str
    headers: dict[str, str]
    ssl_context: ssl.SSLContext | None
    message_timeout_s: float | None = None
    """The network profile's; None: the configured one."""


def basic_auth_header(charge_point_id: str, authorization_key: str) -> str:
    password = authorization_password(authorization_key)
    token = base64.b64encode(charge_point_id.encode() + b":" + password).decode()
    return f"Basic {token}"


def client_context(
    roots_pem: str, chain_path: str | None = None, key_path: str | None = None
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(TLS12_CIPHERS))
    context.load_verify_locations(cadata=roots_pem)
    if chain_path is not None:
        context.load_cert_chain(chain_path, key_path)
    return context


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def probe_tls(host: str, port: int) -> tuple[str, str]:
    """(TLS version, cipher) the server agrees to when offered everything; nothing is sent
    over the connection and nothing is trusted from it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    async with asyncio.timeout(PROBE_TIMEOUT_S):
        _reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host
        )
    try:
        tls = writer.get_extra_info("ssl_object")
        return tls.version() or "", tls.cipher()[0]
    finally:
        writer.transport.abort()


async def classify_failure(exc: BaseException, url: str) -> tuple[str, str] | None:
    """The security event a failed connection attempt is, or None for a network failure."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            if cause.verify_code in HOST_MISMATCH_CODES:
                return "CentralSystemFailedToAuthenticate", cause.verify_message
            return "InvalidCentralSystemCertificate", cause.verify_message
        if isinstance(cause, InvalidStatus) and cause.response.status_code in (401, 403):
            return (
                "FailedToAuthenticateAtCentralSystem",
                f"the CSMS answered HTTP {cause.response.status_code}",
            )
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "wss" or not _broken_handshake(exc):
        return None
    try:
        version, cipher = await probe_tls(parts.hostname or "", parts.port or 443)
    except (OSError, TimeoutError, ssl.SSLError) as probe_failed:
        log.debug("TLS probe of %s failed: %s", parts.netloc, probe_failed)
        return None
    if version in ("SSLv3", "TLSv1", "TLSv1.1"):
        return "InvalidTLSVersion", f"the CSMS offers {version}; at least TLSv1.2 is required"
    if version == "TLSv1.2" and cipher not in TLS12_CIPHERS:
        return "InvalidTLSCipherSuite", f"the CSMS offers {cipher} only"
    return "FailedToAuthenticateAtCentralSystem", "the CSMS closed the TLS connection"


def _broken_handshake(exc: BaseException) -> bool:
    broken = (ConnectionResetError, EOFError, ssl.SSLError, asyncio.IncompleteReadError)
    return any(isinstance(cause, broken) for cause in _causes(exc))


class ConnectionSecurity:
    def __init__(
        self,
        store: Store,
        keys: ConfigurationKeys,
        certificates: CertificateStore,
        events: SecurityLog,
        charge_point_id: str,
        csms_url: str,
        csms_url_tls: str,
        attempts: int,
        reconnect: Callable[[], None],
    ) -> None:
        """`reconnect` asks the link for a new connection once the CSMS has its answers."""
        self._store = store
        self._keys = keys
        self._certificates = certificates
        self._events = events
        self._id = charge_point_id
        self._plain_url = csms_url if csms_url.startswith("ws://") else ""
        if csms_url_tls:
            self._tls_url = csms_url_tls
        elif csms_url.startswith("wss://"):
            self._tls_url = csms_url
        else:
            self._tls_url = "wss://" + csms_url.removeprefix("ws://")
        self._attempts = attempts
        self._attempts_left = attempts
        self._last_event: tuple[str, str] | None = None
        self._reconnect = reconnect
        self.committed = self._load_committed()
        current = self._current_key_values()
        self.trying: Credentials | None = current if current != self.committed else None
        self.endpoints: Endpoints | None = None
        keys.on_change(SECURITY_PROFILE, lambda _v: self._changed())
        keys.on_change(AUTHORIZATION_KEY, lambda _v: self._changed())

    # --- what is in use ------------------------------------------------------------------

    def _current_key_values(self) -> Credentials:
        return Credentials(self._keys.get(SECURITY_PROFILE), self._keys.get(AUTHORIZATION_KEY))

    def _load_committed(self) -> Credentials:
        stored = self._store.get_setting(COMMITTED)
        if stored is not None:
            data = json.loads(stored)
            return Credentials(int(data["profile"]), str(data["key"]))
        committed = self._current_key_values()
        self._save_committed(committed)
        return committed

    def _save_committed(self, credentials: Credentials) -> None:
        self._store.set_setting(
            COMMITTED,
            json.dumps({"profile": credentials.profile, "key": credentials.authorization_key}),
        )

    def adopt_config(self, profile: int, authorization_key: str) -> None:
        """The config file is the way to set (also lower) the profile outside OCPP: a value
        that changed since the last start wins over what the CSMS set."""
        changed = False
        for key, value in (
            (SECURITY_PROFILE, str(profile)),
            (AUTHORIZATION_KEY, authorization_key),
        ):
            seen = CONFIG_SEEN.format(key.name)
            if value and self._store.get_setting(seen) != value:
                self._store.set_setting(seen, value)
                self._keys.set(key, value, notify=False)
                changed = True
        if changed:
            self.committed = self._current_key_values()
            self._save_committed(self.committed)
            self.trying = None

    def follow(self, endpoints: Endpoints) -> None:
        """Connect where the network profile in use says (2.0.1), not where the keys do."""
        self.endpoints = endpoints

    @property
    def credentials(self) -> Credentials:
        if self.endpoints is not None:
            profile = self.endpoints.current()[1].security_profile
            return Credentials(profile, self._keys.get(AUTHORIZATION_KEY))
        return self.trying or self.committed

    def url(self, profile: int) -> str:
        return self._tls_url if profile >= 2 else self._plain_url

    def refusal(self, profile: int, authorization_key: str | None = None) -> str | None:
        """Why `profile` cannot be used now, or None."""
        if profile <= 1 and not self._plain_url:
            return f"profile {profile} needs a ws:// CSMS URL ([ocpp] csms_url)"
        return self.credentials_refusal(profile, authorization_key)

    def credentials_refusal(self, profile: int, authorization_key: str | None = None) -> str | None:
        """Why the box cannot prove itself or check the CSMS under `profile`, or None."""
        key = self._keys.get(AUTHORIZATION_KEY) if authorization_key is None else authorization_key
        if profile in (1, 2) and not key:
            return f"profile {profile} needs an AuthorizationKey ({AUTHORIZATION_KEY_FORMS})"
        if profile >= 2 and not self._certificates.has_roots(CENTRAL_SYSTEM_ROOT):
            return f"profile {profile} needs an installed CentralSystemRootCertificate"
        if profile == 3 and not self._certificates.has_charge_point_certificate():
            return "profile 3 needs a valid charge point certificate"
        return None

    def check_startup(self) -> None:
        reason = self.refusal(self.committed.profile, self.committed.authorization_key)
        if reason is not None:
            raise SecurityConfigError(f"[security] profile = {self.committed.profile}: {reason}")

    def allowed_profile(self, value: str) -> bool:
        """ChangeConfiguration SecurityProfile: only upwards, and only to a usable profile."""
        profile = int(value)
        if profile < self.committed.profile:
            log.warning("SecurityProfile %d refused: lowering is not done over OCPP", profile)
            return False
        reason = self.refusal(profile)
        if reason is not None:
            log.warning("SecurityProfile %d refused: %s", profile, reason)
            return False
        return True

    def current_url(self) -> str:
        """The URL of the next attempt: the profile's CSMS URL and the charge point id."""
        if self.endpoints is not None:
            base = self.endpoints.current()[1].url
        else:
            base = self.url(self.credentials.profile)
        return base.rstrip("/") + "/" + urllib.parse.quote(self._id, safe="")

    def connect_options(self) -> ConnectOptions:
        endpoints = self.endpoints
        timeout = None
        if endpoints is not None:
            for _ in endpoints.order:
                slot, profile = endpoints.current()
                reason = self.credentials_refusal(profile.security_profile)
                if reason is None:
                    break
                log.warning("network profile slot %d passed over: %s", slot, reason)
                endpoints.pass_over()
            timeout = float(endpoints.current()[1].message_timeout_s)
        credentials = self.credentials
        url = self.current_url()
        headers: dict[str, str] = {}
        if credentials.profile in (1, 2):
            headers["Authorization"] = basic_auth_header(self._id, credentials.authorization_key)
        context = None
        if credentials.profile >= 2:
            certificates = self._certificates
            roots = certificates.roots_pem(CENTRAL_SYSTEM_ROOT) + certificates.fallback_roots_pem()
            client = credentials.profile == 3
            context = client_context(
                roots,
                str(certificates.chain_path) if client else None,
                str(certificates.key_path) if client else None,
            )
        return ConnectOptions(credentials, url, headers, context, timeout)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "security_profile": self.credentials.profile,
            "trying": None if self.trying is None else self.trying.profile,
        }
        if self.endpoints is not None:
            described["network_slot"] = self.endpoints.current()[0]
        return described

    # --- changes, successes and failures ------------------------------------------------

    def _changed(self) -> None:
        current = self._current_key_values()
        if current == self.credentials:
            return
        self.trying = None if current == self.committed else current
        self._attempts_left = self._attempts
        what = (
            f"SecurityProfile {current.profile}"
            if current.profile != self.committed.profile
            else "AuthorizationKey"
        )
        self._events.record("ReconfigurationOfSecurityParameters", f"{what} set by the CSMS")
        if current.profile == self.committed.profile and current.profile in (0, 3):
            # a key this profile does not send: nothing to try, it is simply kept
            self.committed, self.trying = current, None
            self._save_committed(current)
            return
        self._reconnect()

    def connected(self, options: ConnectOptions) -> None:
        self._last_event = None
        if options.ssl_context is not None:  # a root was just used to trust the CSMS
            self._certificates.drop_fallback_roots()
        if self.endpoints is not None:
            self.endpoints.connected()
            return
        if self.trying is not None and options.credentials == self.trying:
            log.info("security profile %d in use", self.trying.profile)
            self.committed = self.trying
            self.trying = None
            self._save_committed(self.committed)

    async def failed(self, options: ConnectOptions, exc: BaseException) -> None:
        event = await classify_failure(exc, options.url)
        if event is not None and event != self._last_event:
            self._last_event = event
            self._events.record(*event)
        if self.endpoints is not None:
            self.endpoints.failed()
            return
        if self.trying is None or options.credentials != self.trying:
            return
        self._attempts_left -= 1
        if self._attempts_left > 0:
            return
        tried = self.trying
        self.trying = None
        self._keys.set(SECURITY_PROFILE, str(self.committed.profile), notify=False)
        self._keys.set(AUTHORIZATION_KEY, self.committed.authorization_key, notify=False)
        self._events.record(
            "ReconfigurationOfSecurityParameters",
            f"profile {tried.profile} failed {self._attempts} times "
            f"({event[0] if event else type(exc).__name__}); back to {self.committed.profile}",
        )
