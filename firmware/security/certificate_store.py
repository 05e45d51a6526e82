"""The box's certificates and keys (OCPP 1.6 Security Whitepaper), as PEM files in the data
directory with 0600 permissions, written atomically (a power loss leaves the old file or the
new one, never half of either).

- Root certificates of two hierarchies: CentralSystemRootCertificate (the CPO's: validates the
  CSMS's TLS certificate and the charge point certificate chain) and
  ManufacturerRootCertificate (validates firmware signing certificates).
- The charge point certificate and its private key (security profile 3), made by SignCertificate:
  a key pair generated here and never leaving the box, a CSR, then CertificateSigned.

Every check happens before anything is written, so a refused certificate changes nothing.
The checks themselves (`x509_checks`, on `cryptography`) are imported at the first one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

CENTRAL_SYSTEM_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
ROOT_KINDS = {CENTRAL_SYSTEM_ROOT: "cs-root", MANUFACTURER_ROOT: "mf-root"}
CHARGE_POINT_CHAIN = "charge-point.pem"
CHARGE_POINT_KEY = "charge-point.key"
PENDING_KEY = "charge-point.key.pending"


class CertificateError(ValueError):
    """Why a certificate was refused; the text goes to the log and the security event."""


@dataclass(frozen=True)
class CertificateHash:
    """certificateHashData: what GetInstalledCertificateIds lists and DeleteCertificate names."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def payload(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }


def _write_private(path: Path, data: bytes) -> None:
    """Atomically, 0600 from the first byte on."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _checks() -> ModuleType:
    from pievse.firmware.security import x509_checks

    return x509_checks


class CertificateStore:
    def __init__(self, directory: Path, now: Callable[[], datetime], max_length: int) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        self._now = now
        self.max_length = max_length

    # --- root certificates ---------------------------------------------------------------

    def _root_files(self, kind: str) -> list[Path]:
        return sorted(self.directory.glob(f"{ROOT_KINDS[kind]}-*.pem"))

    def roots(self, kind: str) -> list[x509.Certificate]:
        parse = _checks().parse_certificates
        return [parse(path.read_bytes())[0] for path in self._root_files(kind)]

    def install_roots(self, kind: str, pem_bundle: bytes) -> list[x509.Certificate]:
        """Every certificate of a PEM file (the config file's first trust); returns them."""
        checks = _checks()
        certificates: list[x509.Certificate] = checks.parse_certificates(pem_bundle)
        for certificate in certificates:
            self.install_root(kind, checks.pem(certificate).decode(), provisioned=True)
        return certificates

    def retire_unanchored_roots(self, provisioned: list[x509.Certificate]) -> list[str]:
        """ManufacturerRootCertificates that lead to no provisioned one (a CSMS could install
        its own before that was refused) are moved aside as `.retired`, so they sign
        nothing: kept are the provisioned roots and those signed by a kept one. Returns the
        retired files' names."""
        checks = _checks()
        found = {path: checks.parse_certificates(path.read_bytes())[0] for path in
                 self._root_files(MANUFACTURER_ROOT)}  # fmt: skip
        kept = [path for path, certificate in found.items() if certificate in provisioned]
        grown = True
        while grown:
            more = [
                path
                for path, certificate in found.items()
                if path not in kept and any(checks.issued_by(certificate, found[k]) for k in kept)
            ]
            kept += more
            grown = bool(more)
        retired = [path for path in found if path not in kept]
        for path in retired:
            path.rename(path.with_suffix(".retired"))
        return [path.name for path in retired]

    def has_roots(self, kind: str) -> bool:
        """Without parsing them (nothing is parsed at start-up)."""
        return bool(self._root_files(kind))

    def roots_pem(self, kind: str) -> str:
        return "".join(path.read_text() for path in self._root_files(kind))

    def count(self) -> int:
        return sum(len(self._root_files(kind)) for kind in ROOT_KINDS)

    def check_valid_now(self, certificate: x509.Certificate, what: str) -> None:
        _checks().check_valid_at(certificate, self._now(), what)

    def install_root(
        self, kind: str, pem: str, signed_by_installed: bool = False, provisioned: bool = False
    ) -> bool:
        """Installs one CA certificate; False when it was there already. With
        `signed_by_installed` (AdditionalRootCertificateCheck) a new Central System root must
        be signed by an installed one, and it replaces it: the old stays as the fallback
        until a connection succeeds (`drop_fallback_roots`). A ManufacturerRootCertificate
        decides what code runs on the box: it comes from provisioning (the config file, the
        factory), or over OCPP only signed by a manufacturer root installed already."""
        if kind not in ROOT_KINDS:
            raise CertificateError(f"unknown certificate type {kind}")
        checks = _checks()
        found = checks.parse_certificates(pem)
        if len(found) != 1:
            raise CertificateError(f"expected one certificate, got {len(found)}")
        certificate = found[0]
        if not checks.is_ca(certificate):
            raise CertificateError("not a CA certificate (basicConstraints CA / keyCertSign)")
        self.check_valid_now(certificate, "the certificate")
        installed = self.roots(kind)
        if certificate in installed:
            return False
        signed = any(checks.issued_by(certificate, old) for old in installed)
        if kind == MANUFACTURER_ROOT and not provisioned and not signed:
            raise CertificateError(
                "a ManufacturerRootCertificate is provisioned, or signed by one installed"
            )
        rollover = signed_by_installed and kind == CENTRAL_SYSTEM_ROOT and bool(installed)
        if rollover and not any(checks.issued_by(certificate, old) for old in installed):
            raise CertificateError(
                "AdditionalRootCertificateCheck: not signed by the installed root"
            )
        if self.count() - (len(installed) if rollover else 0) >= self.max_length:
            raise CertificateError(
                f"the store is full (CertificateStoreMaxLength {self.max_length})"
            )
        name = f"{ROOT_KINDS[kind]}-{checks.fingerprint(certificate)}.pem"
        if rollover:
            for path in self._root_files(kind):
                path.rename(path.with_suffix(".fallback"))
        _write_private(self.directory / name, checks.pem(certificate))
        return True

    def drop_fallback_roots(self) -> None:
        for path in self.directory.glob("cs-root-*.fallback"):
            path.unlink()

    def fallback_roots_pem(self) -> str:
        return "".join(p.read_text() for p in sorted(self.directory.glob("cs-root-*.fallback")))

    def hashes(self, kind: str) -> list[CertificateHash]:
        return [_checks().certificate_hash(c, c) for c in self.roots(kind)]

    def find(self, wanted: CertificateHash) -> tuple[str, Path] | None:
        checks = _checks()
        for kind in ROOT_KINDS:
            for path in self._root_files(kind):
                certificate = checks.parse_certificates(path.read_bytes())[0]
                hashed = checks.certificate_hash(certificate, certificate, wanted.hash_algorithm)
                if hashed == wanted:
                    return kind, path
        return None

    def delete(self, path: Path) -> None:
        path.unlink()

    # --- the charge point certificate ----------------------------------------------------

    @property
    def chain_path(self) -> Path:
        return self.directory / CHARGE_POINT_CHAIN

    @property
    def key_path(self) -> Path:
        return self.directory / CHARGE_POINT_KEY

    def has_charge_point_certificate(self) -> bool:
        if not (self.chain_path.exists() and self.key_path.exists()):
            return False
        try:
            leaf = _checks().parse_certificates(self.chain_path.read_bytes())[0]
            self.check_valid_now(leaf, "it")
        except CertificateError:
            return False
        return True

    def new_csr(self, common_name: str, organization: str) -> str:
        """A fresh P-256 key (kept as pending until its certificate comes) and its CSR."""
        key_pem, csr = _checks().new_key_and_csr(common_name, organization)
        assert isinstance(csr, str)
        _write_private(self.directory / PENDING_KEY, key_pem)
        return csr

    def accept_signed_chain(self, pem_chain: str, common_name: str) -> None:
        """CertificateSigned: the leaf must carry the pending key and our name, be valid now,
        and chain (each certificate signed by the next) to an installed Central System root."""
        pending = self.directory / PENDING_KEY
        if not pending.exists():
            raise CertificateError("no certificate was requested (no pending key)")
        checks = _checks()
        chain = checks.parse_certificates(pem_chain)
        checks.check_signed_leaf(chain[0], pending.read_bytes(), common_name)
        checks.check_chain(chain, self.roots(CENTRAL_SYSTEM_ROOT), self._now(), CENTRAL_SYSTEM_ROOT)
        _write_private(self.chain_path, b"".join(checks.pem(c) for c in chain))
        os.replace(pending, self.key_path)

    def install_charge_point_certificate(self, chain_pem: bytes, key_pem: bytes) -> None:
        """Factory provisioning from the config file: copied in once, then the store's."""
        checks = _checks()
        checks.parse_certificates(chain_pem)
        checks.check_private_key(key_pem)
        _write_private(self.key_path, key_pem)
        _write_private(self.chain_path, chain_pem)
