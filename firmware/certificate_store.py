"""The box's certificates and keys (OCPP 1.6 Security Whitepaper), as PEM files in the data
directory with 0600 permissions, written atomically (a power loss leaves the old file or the
new one, never half of either).

- Root certificates of two hierarchies: CentralSystemRootCertificate (the CPO's: validates the
  CSMS's TLS certificate and the charge point certificate chain) and
  ManufacturerRootCertificate (validates firmware signing certificates).
- The charge point certificate and its private key (security profile 3), made by SignCertificate:
  a key pair generated here and never leaving the box, a CSR, then CertificateSigned.

Every check happens before anything is written, so a refused certificate changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

CENTRAL_SYSTEM_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
ROOT_KINDS = {CENTRAL_SYSTEM_ROOT: "cs-root", MANUFACTURER_ROOT: "mf-root"}
CHARGE_POINT_CHAIN = "charge-point.pem"
CHARGE_POINT_KEY = "charge-point.key"
PENDING_KEY = "charge-point.key.pending"
HASH_ALGORITHMS = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


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


def certificate_hash(
    certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256"
) -> CertificateHash:
    """The hashes of OCSP's CertID (RFC 6960), which the whitepaper's hash data are."""
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, issuer, HASH_ALGORITHMS[algorithm]())
        .build()
    )
    return CertificateHash(
        algorithm,
        request.issuer_name_hash.hex(),
        request.issuer_key_hash.hex(),
        format(certificate.serial_number, "x"),
    )


def parse_certificates(pem: str | bytes) -> list[x509.Certificate]:
    data = pem.encode() if isinstance(pem, str) else pem
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise CertificateError("not a PEM certificate")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(f"malformed PEM certificate: {exc}") from None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    if not constraints.value.ca:
        return False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.key_cert_sign


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_valid_at(certificate: x509.Certificate, now: datetime, what: str) -> None:
    if now < certificate.not_valid_before_utc:
        raise CertificateError(
            f"{what} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M}Z"
        )
    if now > certificate.not_valid_after_utc:
        raise CertificateError(
            f"{what} expired at {certificate.not_valid_after_utc:%Y-%m-%d %H:%M}Z"
        )


def check_chain(
    chain: list[x509.Certificate], roots: list[x509.Certificate], now: datetime, root_kind: str
) -> None:
    """Every certificate valid now, each signed by the next, the last one a root or signed
    by one; raises CertificateError naming the first thing wrong."""
    for certificate in chain:
        check_valid_at(certificate, now, "a certificate of the chain")
    for child, parent in itertools.pairwise(chain):
        if not issued_by(child, parent):
            raise CertificateError("the chain is broken (a certificate not signed by the next)")
    top = chain[-1]
    if not any(top == root or issued_by(top, root) for root in roots):
        raise CertificateError(f"the chain does not lead to an installed {root_kind}")


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


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]


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
        return [parse_certificates(path.read_bytes())[0] for path in self._root_files(kind)]

    def roots_pem(self, kind: str) -> str:
        return "".join(path.read_text() for path in self._root_files(kind))

    def count(self) -> int:
        return sum(len(self._root_files(kind)) for kind in ROOT_KINDS)

    def check_valid_now(self, certificate: x509.Certificate, what: str) -> None:
        check_valid_at(certificate, self._now(), what)

    def install_root(self, kind: str, pem: str, signed_by_installed: bool = False) -> bool:
        """Installs one CA certificate; False when it was there already. With
        `signed_by_installed` (AdditionalRootCertificateCheck) a new Central System root must
        be signed by an installed one, and it replaces it: the old stays as the fallback
        until a connection succeeds (`drop_fallback_roots`)."""
        if kind not in ROOT_KINDS:
            raise CertificateError(f"unknown certificate type {kind}")
        found = parse_certificates(pem)
        if len(found) != 1:
            raise CertificateError(f"expected one certificate, got {len(found)}")
        certificate = found[0]
        if not _is_ca(certificate):
            raise CertificateError("not a CA certificate (basicConstraints CA / keyCertSign)")
        self.check_valid_now(certificate, "the certificate")
        installed = self.roots(kind)
        if certificate in installed:
            return False
        rollover = signed_by_installed and kind == CENTRAL_SYSTEM_ROOT and bool(installed)
        if rollover and not any(issued_by(certificate, old) for old in installed):
            raise CertificateError(
                "AdditionalRootCertificateCheck: not signed by the installed root"
            )
        if self.count() - (len(installed) if rollover else 0) >= self.max_length:
            raise CertificateError(
                f"the store is full (CertificateStoreMaxLength {self.max_length})"
            )
        name = f"{ROOT_KINDS[kind]}-{_fingerprint(certificate)}.pem"
        if rollover:
            for path in self._root_files(kind):
                path.rename(path.with_suffix(".fallback"))
        _write_private(self.directory / name, _pem(certificate))
        return True

    def drop_fallback_roots(self) -> None:
        for path in self.directory.glob("cs-root-*.fallback"):
            path.unlink()

    def fallback_roots_pem(self) -> str:
        return "".join(p.read_text() for p in sorted(self.directory.glob("cs-root-*.fallback")))

    def hashes(self, kind: str) -> list[CertificateHash]:
        return [certificate_hash(c, c) for c in self.roots(kind)]

    def find(self, wanted: CertificateHash) -> tuple[str, Path] | None:
        for kind in ROOT_KINDS:
            for path in self._root_files(kind):
                certificate = parse_certificates(path.read_bytes())[0]
                if certificate_hash(certificate, certificate, wanted.hash_algorithm) == wanted:
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
            self.check_valid_now(parse_certificates(self.chain_path.read_bytes())[0], "it")
        except CertificateError:
            return False
        return True

    def new_csr(self, common_name: str, organization: str) -> str:
        """A fresh P-256 key (kept as pending until its certificate comes) and its CSR."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        if organization:
            names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(names))
            .sign(key, hashes.SHA256())
        )
        _write_private(
            self.directory / PENDING_KEY,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def accept_signed_chain(self, pem_chain: str, common_name: str) -> None:
        """CertificateSigned: the leaf must carry the pending key and our name, be valid now,
        and chain (each certificate signed by the next) to an installed Central System root."""
        pending = self.directory / PENDING_KEY
        if not pending.exists():
            raise CertificateError("no certificate was requested (no pending key)")
        chain = parse_certificates(pem_chain)
        leaf = chain[0]
        key = serialization.load_pem_private_key(pending.read_bytes(), password=None)
        if leaf.public_key() != key.public_key():
            raise CertificateError("the certificate does not match the key of the request")
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != common_name:
            raise CertificateError(f"the certificate is not for {common_name}")
        check_chain(chain, self.roots(CENTRAL_SYSTEM_ROOT), self._now(), CENTRAL_SYSTEM_ROOT)
        _write_private(self.chain_path, b"".join(_pem(c) for c in chain))
        os.replace(pending, self.key_path)

    def install_charge_point_certificate(self, chain_pem: bytes, key_pem: bytes) -> None:
        """Factory provisioning from the config file: copied in once, then the store's."""
        parse_certificates(chain_pem)
        serialization.load_pem_private_key(key_pem, password=None)
        _write_private(self.key_path, key_pem)
        _write_private(self.chain_path, chain_pem)
