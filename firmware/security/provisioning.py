"""Certificates the config file names: the first trust anchors and a factory client
certificate, installed into the certificate store at start-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pievse.firmware.config import ConfigError, SecurityConfig
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateStore,
)

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)


def provision(security: SecurityConfig, certificates: CertificateStore) -> None:
    roots = (
        ("central_system_root_certificate", CENTRAL_SYSTEM_ROOT),
        ("manufacturer_root_certificate", MANUFACTURER_ROOT),
    )
    provisioned: list[x509.Certificate] = []
    for key, kind in roots:
        path = getattr(security, key)
        if not path:
            continue
        try:
            installed = certificates.install_roots(kind, Path(path).read_bytes())
        except (OSError, CertificateError) as exc:
            raise ConfigError(f"[security] {key}: {path}: {exc}") from None
        if kind == MANUFACTURER_ROOT:
            provisioned = installed
    if certificates.has_roots(MANUFACTURER_ROOT):
        for name in certificates.retire_unanchored_roots(provisioned):
            log.warning(
                "%s: a ManufacturerRootCertificate that leads to no provisioned one "
                "([security] manufacturer_root_certificate); it verifies nothing now",
                name,
            )
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
