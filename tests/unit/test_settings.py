"""Settings that are checked when they are read, so a typo stops a process at start with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from settings import Settings
from tests.tls_pki import Pki, make_pki


@pytest.mark.parametrize("address", ["9464", "0.0.0.0", "0.0.0.0:metrics", ":9464", "0.0.0.0:70000"])
def test_a_metrics_address_without_host_and_port_is_refused(address: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(metrics_bind_address=address)


def test_an_empty_metrics_address_serves_no_metrics() -> None:
    assert Settings(metrics_bind_address="").metrics_bind_address is None
    assert Settings(metrics_bind_address="0.0.0.0:9464").metrics_bind_address == "0.0.0.0:9464"


# ---- Temporal over TLS --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_temporal_is_plain_text_unless_a_tls_setting_is_given(pki: Pki) -> None:
    assert not Settings().temporal_tls_enabled
    assert Settings(temporal_tls_ca_file=pki.ca_file).temporal_tls_enabled
    assert Settings(temporal_tls_server_name="temporal.leda.test").temporal_tls_enabled
    assert Settings(
        temporal_tls_cert_file=pki.client_cert_file, temporal_tls_key_file=pki.client_key_file
    ).temporal_tls_enabled
    # Temporal Cloud with an API key: TLS with the system's roots, as the SDK does by default.
    assert Settings(temporal_api_key="key").temporal_tls_enabled
    assert Settings(temporal_tls=True).temporal_tls_enabled


def test_empty_tls_variables_mean_unset_as_compose_passes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TLS", "TLS_CA_FILE", "TLS_SERVER_NAME", "TLS_CERT_FILE", "TLS_KEY_FILE", "API_KEY"):
        monkeypatch.setenv(f"LEDA_TEMPORAL_{name}", "")

    settings = Settings()

    assert not settings.temporal_tls_enabled
    assert (settings.temporal_tls, settings.temporal_tls_ca_file, settings.temporal_api_key) == (None, None, None)


def test_a_client_certificate_without_its_key_is_refused_naming_both(pki: Pki) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(temporal_tls_cert_file=pki.client_cert_file)
    [error] = raised.value.errors()
    assert error["loc"] == ("temporal_tls_key_file",)
    assert "LEDA_TEMPORAL_TLS_CERT_FILE" in error["msg"] and "\n" not in error["msg"]


def test_a_key_without_its_client_certificate_is_refused(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="set without LEDA_TEMPORAL_TLS_CERT_FILE"):
        Settings(temporal_tls_key_file=pki.client_key_file)


def test_a_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="is not the private key of LEDA_TEMPORAL_TLS_CERT_FILE"):
        Settings(temporal_tls_cert_file=pki.client_cert_file, temporal_tls_key_file=pki.other_client_key_file)


@pytest.mark.parametrize("setting", ["temporal_tls_ca_file", "temporal_tls_cert_file"])
def test_a_tls_file_that_does_not_exist_is_refused_naming_the_setting(setting: str, tmp_path: Path, pki: Pki) -> None:
    missing = tmp_path / "missing.pem"
    values: dict[str, Any] = {setting: missing}
    if setting == "temporal_tls_cert_file":
        values["temporal_tls_key_file"] = pki.client_key_file
    with pytest.raises(ValidationError) as raised:
        Settings(**values)
    [error] = raised.value.errors()
    assert error["loc"] == (setting,)
    assert f"no such file: {missing}" in error["msg"]


def test_a_ca_file_without_a_certificate_is_refused(pki: Pki, tmp_path: Path) -> None:
    # The SDK would ignore it and report only that the server's issuer is unknown.
    with pytest.raises(ValidationError, match="holds no PEM CERTIFICATE"):
        Settings(temporal_tls_ca_file=pki.client_key_file)
    garbled = tmp_path / "garbled.pem"
    garbled.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValidationError, match="holds no usable PEM certificate"):
        Settings(temporal_tls_ca_file=garbled)


def test_an_encrypted_key_is_refused(pki: Pki, tmp_path: Path) -> None:
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(ValidationError, match="encrypted with a passphrase"):
        Settings(temporal_tls_cert_file=pki.client_cert_file, temporal_tls_key_file=encrypted)


def test_tls_switched_off_refuses_tls_settings_and_an_api_key_in_plain_text(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="false, but LEDA_TEMPORAL_TLS_CA_FILE is set"):
        Settings(temporal_tls=False, temporal_tls_ca_file=pki.ca_file)
    with pytest.raises(ValidationError, match="false, but LEDA_TEMPORAL_API_KEY is set"):
        Settings(temporal_tls=False, temporal_api_key="key")
    assert not Settings(temporal_tls=False).temporal_tls_enabled


def test_the_api_key_never_shows_in_the_settings_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDA_TEMPORAL_API_KEY", "cloud-key-do-not-print")

    settings = Settings()

    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "cloud-key-do-not-print"
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert "cloud-key-do-not-print" not in shown


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("https://leda.kommun.example", True),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://leda.kommun.example", False),
        ("http://10.0.0.5:8000", False),
        ("http://0.0.0.0:8000", False),
    ],
)
def test_production_refuses_an_http_web_address_that_is_not_this_machine(address: str, accepted: bool) -> None:
    assert Settings(web_base_url=address).web_base_url == address  # a developer's machine may use anything
    if accepted:
        assert Settings(production=True, web_base_url=address).web_base_url == address
    else:
        with pytest.raises(ValidationError, match="LEDA_PRODUCTION is set and .* is http on another machine"):
            Settings(production=True, web_base_url=address)


def test_a_web_address_that_is_no_web_address_is_refused() -> None:
    for address in ("leda.kommun.example", "ftp://leda.kommun.example", "https://"):
        with pytest.raises(ValidationError, match="web_base_url"):
            Settings(web_base_url=address)
