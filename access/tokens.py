"""Bearer tokens for the HTTP API: random, per user, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

import asyncpg
from pydantic import BaseModel, ConfigDict

Scope = Literal["participant", "programme_lead", "operations"]
"""What a token may do: act on one's own tasks; also steer one's own pilots; read everything, change nothing."""

SCOPES: tuple[str, ...] = get_args(Scope)


class Identity(BaseModel):
    """Who is calling, as their token says."""

    model_config = ConfigDict(frozen=True)

    participant_id: str
    scope: Scope


def token_hash(token: str) -> str:
    """The stored form of a token; a fast hash is enough because tokens carry 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(pool: asyncpg.Pool, participant_id: str, scope: Scope) -> str:
    """A new token for `participant_id` with `scope`; it is returned once and never stored in clear."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if not participant_id.strip():
        raise ValueError("participant_id must not be blank")
    token = secrets.token_urlsafe(32)
    await pool.execute(
        "INSERT INTO api_tokens (token_hash, participant_id, scope) VALUES ($1, $2, $3)",
        token_hash(token),
        participant_id,
        scope,
    )
    return token


async def revoke_token(pool: asyncpg.Pool, token: str) -> bool:
    """Revoke a token; False if it was unknown or already revoked."""
    status: str = await pool.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return status.endswith(" 1")


async def identify(pool: asyncpg.Pool, token: str) -> Identity | None:
    """The identity a live token stands for, or None for an unknown or revoked one."""
    if not token:
        return None
    row = await pool.fetchrow(
        "SELECT participant_id, scope FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return None if row is None else Identity(participant_id=row["participant_id"], scope=row["scope"])
