"""The keys of connection security and firmware updates, declared as `sections.py` says."""

from __future__ import annotations

from dataclasses import dataclass

from pievse.firmware.authorization_key import FORMS as AUTHORIZATION_KEY_FORMS
from pievse.firmware.authorization_key import valid_authorization_key
from pievse.hal.declared import at_most, declared, empty_or, rule, within


@dataclass(frozen=True)
class SecurityConfig:
    """The Security Whitepaper's side in the config file: profile, key, certificates."""

    profile: int = declared(
        -1,
        "Security Whitepaper profile; -1: 2 for a `wss://` URL, for `ws://` 1 with "
        "`authorization_key` and 0 (with a warning in the log) without; profiles 1 and 2 "
        "need `authorization_key`, and a profile named here that cannot be met exits 2; the "
        "CSMS may raise it (never lower it), a value changed here wins at the next start",
        within(-1, 3, text="0..3 (or -1: from the URL)"),
        note="OCPP 1.6 Security Whitepaper profile: 0 none, 1 Basic auth over ws://, 2 TLS + "
        "Basic auth, 3 TLS with a client certificate. -1: 2 for a wss:// URL; for ws://, 1 "
        "with an authorization_key and 0 (with a warning in the log) without one. The CSMS "
        "may raise it (never lower it); a value changed here wins at the next start.",
    )
    authorization_key: str = declared(
        "",
        "AuthorizationKey (the HTTP Basic password) until the CSMS sets another",
        empty_or(AUTHORIZATION_KEY_FORMS, valid_authorization_key),
        secret=True,
        note="AuthorizationKey until the CSMS sets one: 32..40 hex digits (the bytes are the "
        "password) or a plaintext password of 16..20 printable ASCII characters.",
    )
    cpo_name: str = declared(
        "",
        "CpoName: O= of the certificate signing request",
        at_most(64),
        note="CpoName: O= of the certificate signing request",
    )
    csms_url_tls: str = declared(
        "",
        "the `wss://` URL for profiles 2 and 3; empty: `csms_url` if it is `wss://`, else "
        "`csms_url` with `wss://` (same host and port)",
        empty_or("a wss:// URL", lambda v: v.startswith("wss://")),
        note="wss:// URL for profiles 2 and 3; empty: csms_url with wss://",
    )
    central_system_root_certificate: str = declared(
        "",
        "a PEM file of CentralSystemRootCertificate(s) installed at start (first trust for "
        "profile 2)",
        note="PEM file installed at start (first trust for profile 2)",
    )
    manufacturer_root_certificate: str = declared(
        "",
        "a PEM file of ManufacturerRootCertificate(s) installed at start: they verify signed "
        "firmware (docs/security.md)",
        note="PEM file: verifies signed firmware",
    )
    charge_point_certificate: str = declared(
        "",
        "a factory-provisioned client certificate chain (PEM) for profile 3, with "
        "`charge_point_key`; copied into the data directory once",
        note="factory client certificate chain (PEM) for profile 3 ...",
    )
    charge_point_key: str = declared(
        "",
        "the private key (PEM) of `charge_point_certificate`",
        note="... and its private key; copied into the data directory once",
    )
    additional_root_certificate_check: bool = declared(
        False,
        "AdditionalRootCertificateCheck: a new Central System root must be signed by the "
        "installed one",
    )
    certificate_store_max_length: int = declared(
        20, "CertificateStoreMaxLength: the most certificates installed", within(1, 100)
    )
    upgrade_attempts: int = declared(
        3,
        "failed connections with a new profile or key before the old ones come back",
        within(1, 100),
        note="failed connections with a new profile or key before falling back",
    )
    security_log_max_entries: int = declared(
        1000, "the security log's length, oldest entries dropped first", within(10, 100_000)
    )

    def effective_profile(self, csms_url: str) -> int:
        """With `profile` unset: 2 for wss://; for ws://, 1 with a key and 0 without one
        (a bench or a first install must be able to start; the box warns)."""
        if self.profile >= 0:
            return self.profile
        if csms_url.startswith("wss://"):
            return 2
        return 1 if self.authorization_key else 0


@dataclass(frozen=True)
class FirmwareConfig:
    """Signed A/B firmware updates."""

    install_root: str = declared(
        "/opt/pievse",
        "where releases live (`releases/<version>`, `current`, `previous`)",
        rule("an absolute path", lambda v: v.startswith("/")),
        note="releases/<version>/, current, previous (deploy/install.sh)",
    )
    verify_timeout_s: float = declared(
        300.0,
        "a new release must register (BootNotification Accepted) this soon, or it is rolled back",
        within(5, 3600),
        note="a new release must register this soon, or it is rolled back",
    )
    retries: int = declared(
        3,
        "download and upload attempts after the first, when the CSMS gives none",
        within(0, 100),
        note="download/upload attempts after the first when the CSMS gives none",
    )
    retry_interval_s: int = declared(
        60, "the wait between those attempts, when the CSMS gives none", within(0, 86_400)
    )
    max_bundle_mb: int = declared(
        300,
        "the size cap: a bundle larger (by its Content-Length or as it comes) is refused",
        within(1, 4096),
        note="the size cap: larger bundles are refused before they come",
    )
    download_deadline_s: float = declared(
        3600.0,
        "each file of a download (the bundle, its signature, its certificate) not complete "
        "this soon fails the attempt, however the server paces its bytes",
        within(1, 86_400),
        note="a download not complete this soon fails (slow servers)",
    )
    allow_unsigned: bool = declared(
        False,
        "only while no ManufacturerRootCertificate is provisioned: install bundles nobody "
        "signed. Anyone who can reach the CSMS, the firmware server or the path between runs "
        "code on the box; never settable over OCPP (see docs/security.md)",
        note="Only while no manufacturer_root_certificate is provisioned: install bundles "
        "nobody signed. Anyone who can reach the CSMS or the firmware server then runs code "
        "on the box.",
    )
