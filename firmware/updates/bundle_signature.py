"""The signature of a release bundle: the signing certificate's chain to a
ManufacturerRootCertificate, and the signature over the bundle file's bytes.

The bundle is hashed in chunks (bounded memory, whatever its size) by the caller's worker
thread, and the signature is checked over that digest (prehashed), from the same open file
the install then extracts: nothing can swap the file in between. On `cryptography`, so it
is imported when an update arrives, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from datetime import datetime
from typing import BinaryIO

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from pievse.firmware.security.certificate_store import CertificateError
from pievse.firmware.security.x509_checks import check_signing_chain, parse_certificates
from pievse.firmware.updates.release_bundle import BundleError, Canceled

CHUNK_BYTES = 1 << 20


def check_signing_certificate(
    pem: str, roots: list[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The signing certificate (optionally with intermediates), valid now, for code signing,
    leading to one of the ManufacturerRootCertificates; raises CertificateError."""
    if not roots:
        raise CertificateError("no ManufacturerRootCertificate is provisioned")
    chain = parse_certificates(pem)
    check_signing_chain(chain, roots, now, "ManufacturerRootCertificate")
    return chain[0]


def sha256_of(bundle: BinaryIO, stop: threading.Event) -> bytes:
    """The file's SHA-256 from its first byte, a chunk at a time; Canceled once `stop` is
    set."""
    bundle.seek(0)
    digest = hashlib.sha256()
    while chunk := bundle.read(CHUNK_BYTES):
        if stop.is_set():
            raise Canceled("the update was canceled")
        digest.update(chunk)
    return digest.digest()


def verify_signature(
    bundle: BinaryIO, signature_b64: str, certificate: x509.Certificate, stop: threading.Event
) -> None:
    """Raises BundleError unless `signature_b64` is the certificate's key's signature
    (ECDSA or RSA PKCS#1 v1.5, SHA-256) over the whole file."""
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("the signature is not base64") from None
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise BundleError(f"a {type(key).__name__} key cannot sign firmware here")
    digest = sha256_of(bundle, stop)
    prehashed = Prehashed(hashes.SHA256())
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            key.verify(signature, digest, padding.PKCS1v15(), prehashed)
    except InvalidSignature:
        raise BundleError("the signature does not match the bundle") from None
