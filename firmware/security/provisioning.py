"""Certificates the config file names: the first trust anchors and a factory client
certificate, installed into the certificate store at start-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pievse.firmware.config import ConfigError, SecurityConfig, key
from pievse.firmware.security.certificate_store import (
    CENTRAL_SYSTEM_ROOT,
    MANUFACTURER_ROOT,
    CertificateError,
    CertificateStore,
)

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)


CENTRAL_SYSTEM_ROOT_KEY = key(lambda c: c.security.central_system_root_certificate)
MANUFACTURER_ROOT_KEY = key(lambda c: c.security.manufacturer_root_certificate)
CHAIN_KEY = key(lambda c: c.security.charge_point_certificate)
CHAIN_KEY_FILE_KEY = key(lambda c: c.security.charge_point_key)


def provision(security: SecurityConfig, certificates: CertificateStore) -> None:
    roots = (
        (CENTRAL_SYSTEM_ROOT_KEY, security.central_system_root_certificate, CENTRAL_SYSTEM_ROOT),
        (MANUFACTURER_ROOT_KEY, security.manufacturer_root_certificate, MANUFACTURER_ROOT),
    )
    provisioned: list[x509.Certificate] = []
    for named, path, kind in roots:
        if not path:
            continue
        try:
            installed = certificates.install_roots(kind, Path(path).read_bytes())
        except (OSError, CertificateError) as exc:
            raise ConfigError(f"{named}: {path}: {exc}") from None
        if kind == MANUFACTURER_ROOT:
            provisioned = installed
    if certificates.has_roots(MANUFACTURER_ROOT):
        for name in certificates.retire_unanchored_roots(provisioned):
            log.warning(
                "%s: a ManufacturerRootCertificate that leads to no provisioned one (%s); "
                "it verifies nothing now",
                name,
                MANUFACTURER_ROOT_KEY,
            )
    chain, key_file = security.charge_point_certificate, security.charge_point_key
    if bool(chain) != bool(key_file):
        raise ConfigError(f"{CHAIN_KEY} and {CHAIN_KEY_FILE_KEY.name} go together")
    if chain and not certificates.chain_path.exists():
        try:
            certificates.install_charge_point_certificate(
                Path(chain).read_bytes(), Path(key_file).read_bytes()
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{CHAIN_KEY}: {exc}") from None
