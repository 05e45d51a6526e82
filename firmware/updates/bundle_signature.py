"""The signature of a release bundle (SignedUpdateFirmware): the signing certificate's chain
to a ManufacturerRootCertificate, and the signature over the bundle file's bytes.

On `cryptography`, so it is imported when a signed update arrives, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pievse.firmware.security.certificate_store import CertificateError
from pievse.firmware.security.x509_checks import check_chain, parse_certificates
from pievse.firmware.updates.release_bundle import BundleError


def check_signing_certificate(
    pem: str, roots: list[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The signing certificate (optionally with intermediates), valid now, leading to one of
    the ManufacturerRootCertificates; raises CertificateError."""
    if not roots:
        raise CertificateError("no ManufacturerRootCertificate is installed")
    chain = parse_certificates(pem)
    check_chain(chain, roots, now, "ManufacturerRootCertificate")
    return chain[0]


def verify_signature(path: Path, signature_b64: str, certificate: x509.Certificate) -> None:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("the signature is not base64") from None
    data = path.read_bytes()
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise BundleError(f"a {type(key).__name__} key cannot sign firmware here")
    except InvalidSignature:
        raise BundleError("the signature does not match the bundle") from None
