"""The clients' TLS context: what it verifies, and errors naming the setting and the file."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from edge.settings import EdgeSettings
from hub.settings import HubSettings
from protocol.tls import TlsConfigError, client_context, tls_failure
from smartclass.certificates import cert_pem, issue_server, new_authority, new_key

SETTING = "SMARTCLASS_EDGE_MQTT_TLS_CA_FILE"


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.crt"
    path.write_text(cert_pem(new_authority("test CA").certificate), encoding="ascii")
    return path


def test_the_context_verifies_the_broker_and_its_name_with_tls_1_2_at_least(
    ca_file: Path,
) -> None:
    context = client_context(ca_file, setting=SETTING)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("organizationName", "smartclass"),), (("commonName", "test CA"),))
    ]


def test_an_unusable_ca_file_is_an_error_naming_the_setting_and_the_file(tmp_path: Path) -> None:
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n", encoding="ascii")
    ca = new_authority("test CA")
    server = tmp_path / "server.crt"
    server.write_text(cert_pem(issue_server(ca, new_key(), ("broker.example",))))
    cases = {
        tmp_path / "missing.crt": "No such file",
        tmp_path: "Is a directory",
        not_pem: "NO_CERTIFICATE_OR_CRL_FOUND",
        server: "holds no CA certificate",  # a server's certificate is not a CA
    }
    for path, why in cases.items():
        with pytest.raises(TlsConfigError) as caught:
            client_context(path, setting=SETTING)
        assert str(caught.value).startswith(f"{SETTING}={path}: ")
        assert why in str(caught.value)


def test_edge_and_hub_settings_read_the_ca_file_and_make_no_context_without_one(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert EdgeSettings().tls_context() is None
    assert HubSettings().tls_context() is None
    monkeypatch.setenv("SMARTCLASS_EDGE_MQTT_TLS_CA_FILE", str(ca_file))
    monkeypatch.setenv("SMARTCLASS_HUB_MQTT_TLS_CA_FILE", str(ca_file))
    assert EdgeSettings().mqtt_tls_ca_file == ca_file
    assert isinstance(EdgeSettings().tls_context(), ssl.SSLContext)
    assert isinstance(HubSettings().tls_context(), ssl.SSLContext)
    monkeypatch.setenv("SMARTCLASS_HUB_MQTT_TLS_CA_FILE", str(ca_file.with_name("gone.crt")))
    with pytest.raises(TlsConfigError, match=r"SMARTCLASS_HUB_MQTT_TLS_CA_FILE=.*gone\.crt"):
        HubSettings().tls_context()


def test_a_failed_handshake_is_told_apart_from_other_connection_errors() -> None:
    verify = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed (_ssl.c:1006)"
    said = tls_failure(Exception(verify))
    assert said is not None
    assert "cannot be verified" in said
    wrong = tls_failure(Exception("[SSL: WRONG_VERSION_NUMBER] wrong version number"))
    assert wrong is not None
    assert "handshake" in wrong
    assert tls_failure(Exception("[Errno 111] Connection refused")) is None
