"""Certificates the config file names: the first trust anchors and a factory client
certificate, installed into the certificate store at start-up."""

from __future__ import annotations

from pathlib import Path

from pievse.firmware.config import ConfigError, SecurityConfig
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateStore,
)


def provision(security: SecurityConfig, certificates: CertificateStore) -> None:
    roots = (
        ("central_system_root_certificate", CENTRAL_SYSTEM_ROOT),
        ("manufacturer_root_certificate", MANUFACTURER_ROOT),
    )
    for key, kind in roots:
        path = getattr(security, key)
        if not path:
            continue
        try:
            certificates.install_roots(kind, Path(path).read_bytes())
        except (OSError, CertificateError) as exc:
            raise ConfigError(f"[security] {key}: {path}: {exc}") from None
    chain, key_file = security.charge_point_certificate, security.charge_point_key
    if bool(chain) != bool(key_file):
        raise ConfigError("[security] charge_point_certificate and charge_point_key go together")
    if chain and not certificates.chain_path.exists():
        try:
            certificates.install_charge_point_certificate(
                Path(chain).read_bytes(), Path(key_file).read_bytes()
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"[security] charge_point_certificate: {exc}") from None
