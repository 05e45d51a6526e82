"""Certificate checks on the `cryptography` library: parsing, chains, validity, the OCSP
CertID hashes, key pairs and CSRs.

Apart from the file store (`certificate_store`) because the library costs about 10 MB of
RSS: a box at security profile 0 or 1 that is never sent a certificate never imports it.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from pievse.firmware.security.certificate_store import CertificateError, CertificateHash

HASH_ALGORITHMS = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


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


def is_ca(certificate: x509.Certificate) -> bool:
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


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]


def new_key_and_csr(common_name: str, organization: str) -> tuple[bytes, str]:
    """A fresh P-256 key (PKCS#8 PEM) and its CSR (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def check_signed_leaf(leaf: x509.Certificate, key_pem: bytes, common_name: str) -> None:
    """CertificateSigned's leaf carries the key of the request and our name."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if leaf.public_key() != key.public_key():
        raise CertificateError("the certificate does not match the key of the request")
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != common_name:
        raise CertificateError(f"the certificate is not for {common_name}")


def check_private_key(key_pem: bytes) -> None:
    serialization.load_pem_private_key(key_pem, password=None)
