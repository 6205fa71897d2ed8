"""Bearer tokens for the HTTP API: random, per user, stored only as their SHA-256; they expire and can be revoked.

Every secret Leda hands out starts with a prefix that names its kind (`leda_api_`, `leda_link_`, `leda_session_`,
`leda_cal_`),
so a token pasted into a ticket or a log is recognised, by people, by secret scanners and by the log scrubber
(`observability.scrub`), which removes any such string from every line before it is written.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict

Scope = Literal["participant", "programme_lead", "operations"]
"""What a token may do: act on one's own tasks; also steer one's own pilots; read everything, change nothing."""

SCOPES: tuple[str, ...] = get_args(Scope)

TOKEN_LIFETIME = timedelta(days=90)
"""How long a new API token works unless issued for less: a quarter, so a forgotten integration's token dies."""

LONGEST_TOKEN_LIFETIME = timedelta(days=366)
"""No token is issued for longer: one that outlives the people who know of it is one nobody revokes."""

TOKEN_ID_LENGTH = 12
"""A token's id, what `leda token list` shows and `leda token revoke` takes: the first hex digits of its hash."""

SECRET_PREFIXES = ("leda_api_", "leda_link_", "leda_session_", "leda_cal_")
"""The prefixes of every secret Leda issues: API tokens, sign-in links, browser sessions, calendar feed addresses."""


class Identity(BaseModel):
    """Who is calling, as their token says."""

    model_config = ConfigDict(frozen=True)

    participant_id: str
    scope: Scope


class IssuedToken(BaseModel):
    """An API token as `leda token list` shows it: never the token itself, which is shown once, when issued."""

    model_config = ConfigDict(frozen=True)

    token_id: str
    participant_id: str
    scope: Scope
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> Literal["live", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "live"


def new_secret(prefix: str) -> str:
    """A fresh secret of 256 random bits, with the prefix that says what it is."""
    if prefix not in SECRET_PREFIXES:
        raise ValueError(f"prefix must be one of {SECRET_PREFIXES}, got {prefix!r}")
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token; a fast hash is enough because tokens carry 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    pool: asyncpg.Pool, participant_id: str, scope: Scope, *, lifetime: timedelta = TOKEN_LIFETIME
) -> str:
    """A new token for `participant_id` with `scope`, working for `lifetime`; returned once, never stored in clear."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if not participant_id.strip():
        raise ValueError("participant_id must not be blank")
    if not timedelta(0) < lifetime <= LONGEST_TOKEN_LIFETIME:
        raise ValueError(f"lifetime must be more than nothing and at most {LONGEST_TOKEN_LIFETIME.days} days")
    token = new_secret("leda_api_")
    await pool.execute(
        "INSERT INTO api_tokens (token_hash, participant_id, scope, expires_at) VALUES ($1, $2, $3, now() + $4)",
        token_hash(token),
        participant_id,
        scope,
        lifetime,
    )
    return token


async def revoke_token(pool: asyncpg.Pool, token: str) -> bool:
    """Revoke a token; False if it was unknown or already revoked."""
    status: str = await pool.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return status.endswith(" 1")


_LISTED = "left(token_hash, $2) AS token_id, participant_id, scope, created_at, expires_at, last_used_at, revoked_at"


class UnknownToken(LookupError):
    """No token, or more than one, has the id given."""


async def revoke_token_by_id(pool: asyncpg.Pool, token_id: str) -> IssuedToken:
    """Revoke the token `leda token list` shows as `token_id`; it is refused at once. Revoking twice is no error."""
    if len(token_id) != TOKEN_ID_LENGTH or any(c not in "0123456789abcdef" for c in token_id):
        raise UnknownToken(f"a token id is {TOKEN_ID_LENGTH} hex digits, as leda token list shows it; got {token_id!r}")
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            "SELECT token_hash FROM api_tokens WHERE left(token_hash, $1) = $2", TOKEN_ID_LENGTH, token_id
        )
        if len(rows) != 1:
            raise UnknownToken(
                f"no token has the id {token_id}" if not rows else f"{len(rows)} tokens share id {token_id}"
            )
        row = await connection.fetchrow(
            f"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_hash = $1 RETURNING {_LISTED}",
            rows[0]["token_hash"],
            TOKEN_ID_LENGTH,
        )
    return IssuedToken(**dict(row))


async def list_tokens(pool: asyncpg.Pool, participant_id: str | None = None) -> list[IssuedToken]:
    """Every token issued (to `participant_id`, when given), newest first: live, expired and revoked alike."""
    rows = await pool.fetch(
        f"SELECT {_LISTED} FROM api_tokens WHERE $1::text IS NULL OR participant_id = $1 ORDER BY created_at DESC",
        participant_id,
        TOKEN_ID_LENGTH,
    )
    return [IssuedToken(**dict(row)) for row in rows]


# One statement: who the token is, and its last use noted at most once a minute (not a write per request).
_IDENTIFY = """
WITH live AS (
    SELECT token_hash, participant_id, scope, last_used_at FROM api_tokens
     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
), used AS (
    UPDATE api_tokens t SET last_used_at = now() FROM live
     WHERE t.token_hash = live.token_hash
       AND (live.last_used_at IS NULL OR live.last_used_at < now() - interval '1 minute')
)
SELECT participant_id, scope FROM live
"""


async def identify(pool: asyncpg.Pool, token: str) -> Identity | None:
    """The identity a live token stands for, or None for an unknown, expired or revoked one."""
    if not token:
        return None
    row = await pool.fetchrow(_IDENTIFY, token_hash(token))
    return None if row is None else Identity(participant_id=row["participant_id"], scope=row["scope"])
