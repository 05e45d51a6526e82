"""Certificates made for the tests with `cryptography`: a CPO root and what it issues (CSMS
server certificates, charge point certificates from a CSR), and TLS server contexts."""

from __future__ import annotations

import ipaddress
import ssl
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        certificate, key = directory / f"{name}.pem", directory / f"{name}.key"
        certificate.write_text(self.pem())
        key.write_bytes(self.key_pem())
        return certificate, key


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(
    builder: x509.CertificateBuilder, days: tuple[float, float]
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return builder.not_valid_before(now + timedelta(days=days[0])).not_valid_after(
        now + timedelta(days=days[1])
    )


class Pki:
    def __init__(
        self,
        name: str = "Test CPO Root",
        days: tuple[float, float] = (-1, 365),
        signed_by: Pki | None = None,
    ) -> None:
        """`signed_by`: a new root whose certificate the old root signed (a rollover)."""
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = _name(name) if signed_by is None else signed_by.root.certificate.subject
        signer = key if signed_by is None else signed_by.root.key
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        self.root = Issued(key, _validity(builder, days).sign(signer, hashes.SHA256()))

    def issue(
        self,
        common_name: str,
        public_key: ec.EllipticCurvePublicKey,
        days: tuple[float, float] = (-1, 30),
        host: str | None = None,
        client: bool = False,
        code_signing: bool = False,
    ) -> x509.Certificate:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.root.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.CODE_SIGNING if code_signing else usage]
                ),
                critical=False,
            )
        )
        if host is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                critical=False,
            )
        return _validity(builder, days).sign(self.root.key, hashes.SHA256())

    def server(self, host: str = "127.0.0.1", days: tuple[float, float] = (-1, 30)) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        return Issued(key, self.issue("csms.test", key.public_key(), days, host=host))

    def sign_csr(self, csr_pem: str, days: tuple[float, float] = (-1, 30)) -> x509.Certificate:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        common_name = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        return self.issue(str(common_name), csr.public_key(), days, client=True)  # type: ignore[arg-type]

    def client(self, common_name: str) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        return Issued(key, self.issue(common_name, key.public_key(), client=True))


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def server_context(
    tmp: Path,
    issued: Issued,
    client_roots: Pki | None = None,
    client_required: bool = True,
    max_version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A CSMS's TLS: `client_roots` asks for client certificates from that PKI (required
    or optional); `max_version` / `ciphers` make a server this box must refuse."""
    certificate, key = issued.write(tmp, f"server-{issued.certificate.serial_number}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    if client_roots is not None:
        context.verify_mode = ssl.CERT_REQUIRED if client_required else ssl.CERT_OPTIONAL
        context.load_verify_locations(cadata=client_roots.root.pem())
    if max_version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # old versions, on purpose
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = max_version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if ciphers is not None:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
    return context
