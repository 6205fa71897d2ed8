"""Database URLs, which carry a password: kept wrapped until a connection is made, and shown without it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

__all__ = ["redacted", "reveal"]


def reveal(url: str | SecretStr) -> str:
    """The URL itself, for the one call that connects with it."""
    return url.get_secret_value() if isinstance(url, SecretStr) else url


def redacted(url: str | SecretStr) -> str:
    """The URL with its password replaced by ``***``, for messages and printouts; user, host and database stay."""
    text = reveal(url)
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return "(a database URL that does not parse)"
    if password is None:
        return text
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
