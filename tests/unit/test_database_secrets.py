"""Database URLs carry passwords: settings keep them secret, messages show them redacted (database/urls.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from unittest import mock

import pytest
from pydantic import SecretStr

from database.roles import create_roles_sql, scram_verifier
from database.urls import redacted, reveal
from settings import Settings

RUNTIME_URL = "postgresql://leda_runtime:s3cret-runtime@db.example:5432/leda"
OWNER_URL = "postgresql://leda_owner:s3cret-owner@db.example:5432/leda"


def test_settings_keep_both_database_urls_secret() -> None:
    environment = {"DATABASE_URL": RUNTIME_URL, "LEDA_MIGRATION_DATABASE_URL": OWNER_URL}
    with mock.patch.dict(os.environ, environment, clear=True):
        settings = Settings()

    assert isinstance(settings.database_url, SecretStr) and isinstance(settings.migration_database_url, SecretStr)
    assert reveal(settings.database_url) == RUNTIME_URL and reveal(settings.migration_database_url) == OWNER_URL
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret" not in shown


def test_leda_database_url_wins_over_database_url() -> None:
    environment = {"DATABASE_URL": OWNER_URL, "LEDA_DATABASE_URL": RUNTIME_URL}
    with mock.patch.dict(os.environ, environment, clear=True):
        assert reveal(Settings().database_url or "") == RUNTIME_URL


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (RUNTIME_URL, "postgresql://leda_runtime:***@db.example:5432/leda"),
        (SecretStr(OWNER_URL), "postgresql://leda_owner:***@db.example:5432/leda"),
        ("postgresql://leda_runtime@127.0.0.1:55432/leda", "postgresql://leda_runtime@127.0.0.1:55432/leda"),
        ("postgresql://u:p%40ss@h/leda?sslmode=require", "postgresql://u:***@h/leda?sslmode=require"),
    ],
)
def test_a_redacted_url_keeps_everything_but_the_password(url: str | SecretStr, shown: str) -> None:
    assert redacted(url) == shown


def test_a_scram_verifier_is_the_one_postgresql_computes() -> None:
    """RFC 7677's derivation, by hand; that PostgreSQL accepts it is shown by every test that logs in."""
    salt = bytes(range(16))
    verifier = scram_verifier("pencil", salt=salt, iterations=4096)

    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt_b64 = iterations_salt.split(":")
    stored_key, server_key = (base64.b64decode(key) for key in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    assert (method, iterations, base64.b64decode(salt_b64)) == ("SCRAM-SHA-256", "4096", salt)
    assert stored_key == hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    assert server_key == hmac.new(salted, b"Server Key", "sha256").digest()


def test_role_sql_carries_no_password_in_clear() -> None:
    sql = create_roles_sql({"leda_runtime": "s3cret-runtime"})
    assert "s3cret" not in sql
    assert "ALTER ROLE leda_runtime LOGIN NOSUPERUSER" in sql and "PASSWORD 'SCRAM-SHA-256$4096:" in sql
    with pytest.raises(ValueError, match="role name"):
        create_roles_sql({"leda; DROP TABLE events": "x"})
