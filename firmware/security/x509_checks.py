"""Certificate checks on the `cryptography` library: parsing, chains, validity, the OCSP
CertID hashes, key pairs and CSRs.

Apart from the file store (`certificate_store`) because the library costs about 10 MB of
RSS: a box at security profile 0 or 1 that is never sent a certificate never imports it.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pievse.firmware.security.certificate_store import CertificateError, CertificateHash

HASH_ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
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


def _signing_ca_problem(certificate: x509.Certificate, below: int) -> str | None:
    """Why an intermediate with `below` CA certificates under it cannot issue in a firmware
    signing chain: it must say it is a CA and that its key signs certificates (no missing
    extension read as "anything goes"), within its path length."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "no basicConstraints or no keyUsage extension"
    if not constraints.value.ca:
        return "not a CA (basicConstraints)"
    if not usage.key_cert_sign:
        return "its key usage has no keyCertSign"
    return _path_length_problem(certificate, below)


def _path_length_problem(certificate: x509.Certificate, below: int) -> str | None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return None
    limit = constraints.value.path_length
    if limit is not None and below > limit:
        return f"path length {limit}, {below} CAs below it"
    return None


def _code_signing_problem(signer: x509.Certificate) -> str | None:
    try:
        purposes = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "no extended key usage (codeSigning is needed)"
    if ExtendedKeyUsageOID.CODE_SIGNING not in purposes:
        return "its extended key usage has no codeSigning"
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return None if usage.digital_signature else "its key usage has no digitalSignature"


def check_signing_chain(
    chain: list[x509.Certificate], roots: list[x509.Certificate], now: datetime, root_kind: str
) -> None:
    """`check_chain` for firmware signing: the signer carries the codeSigning extended key
    usage, every intermediate is a CA whose key signs certificates, and the root's path
    length holds too. Raises CertificateError."""
    check_chain(chain, roots, now, root_kind)
    problem = _code_signing_problem(chain[0])
    if problem is not None:
        raise CertificateError(f"the signing certificate: {problem}")
    for below, intermediate in enumerate(chain[1:]):
        problem = _signing_ca_problem(intermediate, below)
        if problem is not None:
            raise CertificateError(f"an intermediate certificate of the chain: {problem}")
    top = chain[-1]
    if top in roots:
        return
    issuers = [root for root in roots if issued_by(top, root)]
    problems = [_path_length_problem(root, len(chain) - 1) for root in issuers]
    if None not in problems:
        raise CertificateError(f"the {root_kind} may not issue this chain: {problems[0]}")


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
