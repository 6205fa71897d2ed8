"""Every setting Leda reads, in one place (environment variables with the ``LEDA_`` prefix)."""

from __future__ import annotations

import ssl
from datetime import time
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.kolada import check_api_version


class Settings(BaseSettings):
    """Leda's configuration; each field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="LEDA_", extra="ignore")

    # First, so the validators after it see it: production refuses what only a developer's machine may have.
    production: bool = Field(
        default=False, description="a deployment: refuse an http web address that is not this machine (LEDA_PRODUCTION)"
    )
    data_dir: Path = Field(default=Path(".leda"), description="Where the embedded stack keeps its state.")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # Temporal over TLS: a secured cluster (its CA, mutual TLS) or Temporal Cloud (an API key, or mutual TLS).
    # Files are checked when the settings are read, so a wrong path stops a process at start with one line.
    temporal_tls_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle that signed the Temporal server's certificate; unset: system roots"
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        description="name the server's certificate is checked against and sent as SNI, when not the address's host",
    )
    temporal_tls_cert_file: Path | None = Field(default=None, description="PEM client certificate for mutual TLS")
    temporal_tls_key_file: Path | None = Field(
        default=None, validate_default=True, description="the client certificate's unencrypted PEM private key"
    )
    temporal_api_key: SecretStr | None = Field(default=None, description="API key (Temporal Cloud), sent over TLS")
    # Last of the group: its validator sees the others. Unset, TLS is on as soon as any of them is set.
    temporal_tls: bool | None = Field(
        default=None, validate_default=True, description="TLS to Temporal; unset: on when any setting above is set"
    )
    temporal_ui_port: int = 8233
    task_queue: str = "leda"

    # DATABASE_URL is the conventional name; LEDA_DATABASE_URL wins when both are set. Both URLs carry a password,
    # so they stay SecretStr (shown as '**********') until database.urls.reveal hands one to asyncpg.
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("LEDA_DATABASE_URL", "DATABASE_URL"),
        description="the application's connection, as the runtime role leda_runtime (README: Security)",
    )
    migration_database_url: SecretStr | None = Field(
        default=None, description="`leda migrate`'s connection, as the schema owner leda_owner; unset: DATABASE_URL"
    )
    postgres_port: int = 55432

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none, STARTTLS on a plain connection, or implicit TLS (port 465)"
    )
    smtp_ca_file: Path | None = Field(default=None, description="a CA bundle to trust for the relay's certificate")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "Leda <leda@example.invalid>"
    accessibility_contact: str = Field(
        default="tillganglighet@example.invalid",
        min_length=3,
        description="where anyone reports an accessibility problem; the accessibility statement gives it",
    )

    kolada_base_url: str = Field(
        default="http://127.0.0.1:8088/v3",
        description="Kolada's v3 API (https://api.kolada.se/v3); the default is the embedded synthetic server",
    )
    kolada_port: int = 8088
    kolada_retries: int = Field(
        default=3, ge=0, le=6, description="how often a Kolada request answered 429 or 5xx is tried again at once"
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    web_base_url: str = Field(
        default="http://127.0.0.1:8000",
        validate_default=True,
        description="where the web pages are reached; mailed links start with it; https: Secure cookies and HSTS",
    )
    max_request_bytes: int = Field(
        default=256 * 1024, gt=0, description="the largest request body the API reads; larger ones get 413"
    )

    digest_time: time = Field(default=time(7, 0), description="local time of day the daily digest goes out (HH:MM)")
    digest_timezone: str = Field(default="Europe/Stockholm", description="IANA time zone of digest_time")

    token: SecretStr | None = Field(
        default=None, description="the API token the CLI acts with, as `leda token` issued it (LEDA_TOKEN)"
    )

    log_format: str = Field(default="console", description="console or json")
    log_level: str = "INFO"
    metrics_bind_address: str | None = Field(
        default=None,
        description="host:port where `leda worker` serves the SDK's Prometheus metrics at /metrics; unset: none",
    )

    @field_validator("kolada_base_url")
    @classmethod
    def _kolada_is_v3(cls, value: str) -> str:
        # Checked here as well as by the client, so a retired address stops a process at start with one line,
        # not a pilot's deep analysis months in.
        return check_api_version(value)

    @field_validator("web_base_url")
    @classmethod
    def _web_base_url_is_safe(cls, value: str, info: ValidationInfo) -> str:
        # Session cookies and sign-in links cross the network in the clear over http: on a developer's own machine
        # that is no one else's business; in a deployment it is everyone's on the way.
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("give the address people reach the web pages at, such as https://leda.kommun.se")
        if info.data.get("production") and parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError(
                f"LEDA_PRODUCTION is set and {value} is http on another machine than this one: serve the pages over "
                "https (a reverse proxy, README: Security) and give the https address"
            )
        return value.rstrip("/")

    @property
    def temporal_tls_enabled(self) -> bool:
        """Whether Leda speaks TLS to Temporal: as LEDA_TEMPORAL_TLS says, or else when any TLS setting is given.

        An API key alone turns TLS on with the system's roots, which is what Temporal Cloud needs.
        """
        if self.temporal_tls is not None:
            return self.temporal_tls
        return any(getattr(self, name) is not None for name in _TEMPORAL_TLS_SETTINGS)

    @field_validator(
        "temporal_tls",
        "temporal_tls_ca_file",
        "temporal_tls_server_name",
        "temporal_tls_cert_file",
        "temporal_tls_key_file",
        "temporal_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker-compose passes `${LEDA_TEMPORAL_TLS_CA_FILE:-}` as an empty string when the operator sets nothing.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("temporal_tls_ca_file")
    @classmethod
    def _ca_file_holds_certificates(cls, value: Path | None) -> Path | None:
        # The SDK silently ignores a CA file it cannot parse, and then reports only an unknown issuer.
        if value is not None:
            _pem_text(value, "CERTIFICATE")
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=value)
            except ssl.SSLError as error:
                raise ValueError(f"{value} holds no usable PEM certificate ({error.reason or error})") from None
        return value

    @field_validator("temporal_tls_cert_file")
    @classmethod
    def _cert_file_holds_a_certificate(cls, value: Path | None) -> Path | None:
        if value is not None:
            _pem_text(value, "CERTIFICATE")
        return value

    @field_validator("temporal_tls_key_file")
    @classmethod
    def _key_file_goes_with_the_cert_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if "temporal_tls_cert_file" not in info.data:
            return value  # the certificate setting was refused already; that error says what to fix
        cert = info.data["temporal_tls_cert_file"]
        if cert is not None and value is None:
            raise ValueError(
                "not set, but LEDA_TEMPORAL_TLS_CERT_FILE is: a client certificate needs its private key "
                "(set both, or neither)"
            )
        if value is None:
            return None
        if cert is None:
            raise ValueError(
                "set without LEDA_TEMPORAL_TLS_CERT_FILE: a private key needs its client certificate "
                "(set both, or neither)"
            )
        if "ENCRYPTED" in _pem_text(value, "PRIVATE KEY"):
            raise ValueError(f"{value} is encrypted with a passphrase, which the Temporal SDK cannot open")

        def no_passphrase() -> bytes:
            raise ValueError("encrypted")

        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, value, password=no_passphrase)
        except (ssl.SSLError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise ValueError(
                f"{value} is not the private key of LEDA_TEMPORAL_TLS_CERT_FILE {cert} ({reason})"
            ) from None
        return value

    @field_validator("temporal_tls")
    @classmethod
    def _tls_off_takes_no_tls_settings(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value is False:
            given = [f"LEDA_{name.upper()}" for name in _TEMPORAL_TLS_SETTINGS if info.data.get(name) is not None]
            if given:
                # An API key in plain text is a credential on the wire: refused like the other contradictions.
                raise ValueError(f"false, but {', '.join(given)} is set: unset it, or leave LEDA_TEMPORAL_TLS unset")
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time_is_local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give the digest time without an offset (07:00); its time zone is LEDA_DIGEST_TIMEZONE")
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _digest_timezone_is_known(cls, value: str) -> str:
        # Checked here so a typo stops the worker at start, not at the first schedule update.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"not an IANA time zone name such as Europe/Stockholm: {error}") from error
        return value

    @field_validator("metrics_bind_address")
    @classmethod
    def _metrics_bind_address_has_a_port(cls, value: str | None) -> str | None:
        # Checked here so a typo is a one-line settings error, not the SDK's failure at worker start.
        if not value:
            return None  # empty counts as unset, so a compose file can switch it off with LEDA_METRICS_BIND_ADDRESS=
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("give host:port, such as 0.0.0.0:9464")
        return value


_TEMPORAL_TLS_SETTINGS = (
    "temporal_tls_ca_file",
    "temporal_tls_server_name",
    "temporal_tls_cert_file",
    "temporal_tls_key_file",
    "temporal_api_key",
)
"""The settings that only mean something over TLS: any of them turns TLS on, unless LEDA_TEMPORAL_TLS says false."""


def _pem_text(path: Path, label: str) -> str:
    """The text of a PEM file that must hold a `label` block (CERTIFICATE, PRIVATE KEY); a one-line error if not."""
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    if not path.is_file():
        raise ValueError(f"not a file: {path}")
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    if f"{label}-----" not in text:
        raise ValueError(f"{path} holds no PEM {label} block (-----BEGIN {label}-----)")
    return text


def _loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
