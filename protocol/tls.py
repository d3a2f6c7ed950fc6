"""TLS for MQTT clients: a context that trusts one CA file and verifies the broker's name."""

from __future__ import annotations

import ssl
from pathlib import Path


class TlsConfigError(ValueError):
    """A CA file that cannot be read or holds no CA certificate; names the setting and file."""


def client_context(ca_file: Path, *, setting: str) -> ssl.SSLContext:
    """A client context trusting only the CA certificates of ``ca_file``: TLS 1.2 at least,
    the broker's certificate verified and its name checked against the host connected to.

    ``setting`` (e.g. ``SMARTCLASS_EDGE_MQTT_TLS_CA_FILE``) names where the file came from
    in the error raised when it cannot be used.
    """
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    except OSError as exc:  # ssl.SSLError is one: a file that is not PEM certificates
        msg = f"{setting}={ca_file}: cannot use it as the broker's CA file: {exc.strerror or exc}"
        raise TlsConfigError(msg) from exc
    if not context.get_ca_certs():
        msg = f"{setting}={ca_file}: holds no CA certificate (the deployment's ca.crt)"
        raise TlsConfigError(msg)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def optional_context(ca_file: Path | None, *, setting: str) -> ssl.SSLContext | None:
    """``client_context`` when a CA file is set; None (plain TCP, for loopback) when not."""
    return None if ca_file is None else client_context(ca_file, setting=setting)


def tls_failure(exc: BaseException) -> str | None:
    """A sentence for the log when ``exc`` (an aiomqtt error) is a failed TLS handshake, else None.

    aiomqtt keeps only the text of the ``ssl`` error, so the text is what is looked at.
    """
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            f"the broker's certificate cannot be verified ({text}): it must be signed by the "
            "CA of the CA file and carry the name or address connected to"
        )
    if "[SSL" in text or "SSL:" in text:
        return f"the TLS handshake with the broker failed ({text})"
    return None


__all__ = ["TlsConfigError", "client_context", "optional_context", "tls_failure"]
