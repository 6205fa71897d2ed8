"""Every setting Leda reads, in one place (environment variables with the ``LEDA_`` prefix)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Leda's configuration; each field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="LEDA_", extra="ignore")

    data_dir: Path = Field(default=Path(".leda"), description="Where the embedded stack keeps its state.")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "leda"

    # DATABASE_URL is the conventional name; LEDA_DATABASE_URL wins when both are set.
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("LEDA_DATABASE_URL", "DATABASE_URL"))
    postgres_port: int = 55432

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none, STARTTLS on a plain connection, or implicit TLS (port 465)"
    )
    smtp_ca_file: Path | None = Field(default=None, description="a CA bundle to trust for the relay's certificate")
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Leda <leda@example.invalid>"

    kolada_base_url: str = "http://127.0.0.1:8088/v2"
    kolada_port: int = 8088

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    web_base_url: str = "http://127.0.0.1:8000"  # where the web pages are reached; mailed links start with it

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
