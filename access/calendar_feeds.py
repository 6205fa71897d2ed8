"""The secret addresses of calendar feeds: a calendar client sends no token, so the address is the secret.

An address holds 256 random bits after `leda_cal_` (so the log scrubber knows it); Leda keeps only its SHA-256. A
participant has one live address: a new one revokes the one before, so an address that leaked is shut by renewing.
"""

from __future__ import annotations

import asyncpg

from access.tokens import new_secret, token_hash


def calendar_feed_url(web_base_url: str, secret: str) -> str:
    """The address a calendar subscribes to: the feed at its secret."""
    return f"{web_base_url}/calendar/{secret}.ics"


async def renew_calendar_feed(pool: asyncpg.Pool, participant_id: str) -> str:
    """A new secret for the participant's calendar feed; the one before, if any, stops working at once."""
    secret = new_secret("leda_cal_")
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "UPDATE calendar_feeds SET revoked_at = now() WHERE participant_id = $1 AND revoked_at IS NULL",
            participant_id,
        )
        await connection.execute(
            "INSERT INTO calendar_feeds (feed_hash, participant_id) VALUES ($1, $2)", token_hash(secret), participant_id
        )
    return secret


async def calendar_feed_holder(pool: asyncpg.Pool, secret: str) -> str | None:
    """Whose live calendar feed `secret` opens; None for an unknown or revoked one, or a person no longer in the
    directory (erased)."""
    if not secret.startswith("leda_cal_"):
        return None
    holder: str | None = await pool.fetchval(
        """SELECT f.participant_id
             FROM calendar_feeds f JOIN participants p USING (participant_id)
            WHERE f.feed_hash = $1 AND f.revoked_at IS NULL""",
        token_hash(secret),
    )
    return holder
