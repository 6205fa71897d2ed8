"""Connection pools for PostgreSQL, with JSON decoded to Python values on every connection."""

from __future__ import annotations

import json

import asyncpg
from pydantic import SecretStr

from database.urls import reveal

__all__ = ["create_pool"]

# Names the sessions in pg_stat_activity, so an idle-in-transaction session that stalls the event store's
# append lock or a projection can be traced back to Leda.
APPLICATION_NAME = "leda"


async def _register_json_codecs(connection: asyncpg.Connection) -> None:
    """Let queries pass and receive dicts and lists for json/jsonb instead of JSON text."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=json.dumps,
            decoder=json.loads,
            format="text",
        )


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """What the pool does to a connection it takes back, beyond what asyncpg always does (roll back a transaction
    left open): nothing. Leda keeps no session state on a pooled connection: its advisory locks are transaction
    locks, its settings SET LOCAL or a function's own, and it neither LISTENs nor holds cursors outside a
    transaction (tests/unit/test_pooled_sessions.py holds the code to that). asyncpg's default reset clears all of
    those with a query of its own after every use: a round trip more for each statement run on the pool."""


async def create_pool(dsn: str | SecretStr, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool whose connections all encode and decode json/jsonb with the standard library.

    With these codecs a jsonb parameter takes a Python value, not a JSON string: passing a str would
    store a JSON string literal. ``dsn`` may stay a ``SecretStr`` (as settings hold it) up to here.
    """
    if min_size < 0 or max_size < 1 or min_size > max_size:
        raise ValueError(
            f"pool sizes must satisfy 0 <= min_size <= max_size and max_size >= 1, "
            f"got min_size={min_size}, max_size={max_size}"
        )
    return await asyncpg.create_pool(
        reveal(dsn),
        min_size=min_size,
        max_size=max_size,
        init=_register_json_codecs,
        reset=_nothing_to_reset,
        server_settings={"application_name": APPLICATION_NAME},
    )
