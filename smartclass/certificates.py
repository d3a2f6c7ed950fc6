"""A deployment's own certificate authority and the TLS certificates of its brokers."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3652
"""A deployment's CA is valid for ten years."""
SERVER_DAYS = 730
"""A broker's certificate is valid for two years."""
RENEW_DAYS = 30
"""A broker's certificate this close to its end is issued again."""
BACKDATE = dt.timedelta(hours=1)
"""Certificates start an hour early: a clock a little behind still accepts a new one."""


class CertificateError(ValueError):
    """A CA or key file that cannot be read; the message names the file."""


@dataclass(frozen=True, slots=True)
class Authority:
    """The CA that signs the deployment's broker certificates."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def new_key() -> ec.EllipticCurvePrivateKey:
    """A new EC P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """A private key as unencrypted PKCS#8 PEM (the file itself is 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def load_key(text: str, where: str) -> ec.EllipticCurvePrivateKey:
    """An EC private key from PEM, or CertificateError naming ``where``."""
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        msg = f"{where}: not a readable unencrypted private key: {exc}"
        raise CertificateError(msg) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        msg = f"{where}: not an EC private key"
        raise CertificateError(msg)
    return key


def load_certificate(text: str, where: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        msg = f"{where}: not a PEM certificate: {exc}"
        raise CertificateError(msg) from exc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_usage(*, authority: bool) -> x509.KeyUsage:
    """A CA signs certificates (and CRLs); an EC server key signs handshakes and agrees keys."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not authority,
        key_cert_sign=authority,
        crl_sign=authority,
        encipher_only=False,
        decipher_only=False,
    )


def new_authority(name: str, *, now: dt.datetime | None = None) -> Authority:
    """A new CA named ``name``: EC P-256, ten years, allowed to sign certificates only."""
    now = now or _now()
    key = new_key()
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smartclass"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])  # fmt: skip
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(authority=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def general_name(name: str) -> x509.GeneralName:
    """An IP address SAN for an address, else a DNS SAN."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def names_of(certificate: x509.Certificate) -> set[str]:
    """The DNS names and addresses of a certificate's subject alternative names."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return {*dns, *ips}


def issue_server(
    ca: Authority,
    key: ec.EllipticCurvePrivateKey,
    names: tuple[str, ...],
    *,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """A broker's certificate for ``key``: two years, server authentication, ``names`` as its
    subject alternative names (the first also its common name)."""
    now = now or _now()
    public = key.public_key()
    ca_public = ca.key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(authority=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([general_name(n) for n in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )


def reissue_reason(
    certificate: x509.Certificate,
    ca: Authority,
    key: ec.EllipticCurvePrivateKey,
    names: tuple[str, ...],
    *,
    now: dt.datetime | None = None,
) -> str | None:
    """Why a broker's certificate must be issued again (None: it is still right)."""
    now = now or _now()
    try:
        certificate.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return "not signed by the deployment's CA"
    if certificate.public_key() != key.public_key():
        return "not the certificate of server.key"
    have, want = names_of(certificate), set(names)
    if have != want:
        changes = [f"+{n}" for n in sorted(want - have)] + [f"-{n}" for n in sorted(have - want)]
        return f"names changed ({', '.join(changes)})"
    if certificate.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return f"ends {certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


__all__ = [
    "CA_DAYS",
    "RENEW_DAYS",
    "SERVER_DAYS",
    "Authority",
    "CertificateError",
    "cert_pem",
    "general_name",
    "issue_server",
    "key_pem",
    "load_certificate",
    "load_key",
    "names_of",
    "new_authority",
    "new_key",
    "reissue_reason",
]
