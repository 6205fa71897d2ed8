"""Databases of a test's own on the test session's PostgreSQL server, one URL per role of Leda's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from database import create_pool, migrate, redacted
from database.roles import OWNER, READONLY, RUNTIME


@dataclass(frozen=True, repr=False)
class DatabaseUrls:
    """One database's URLs, one per role (database/roles.py): the application's is `runtime`."""

    admin: str
    """The server's superuser: creates and drops the database, and tampers with the record where a test must."""
    owner: str
    """The schema's owner, which the migrations run as."""
    runtime: str
    """What the worker, the API and the CLI connect as."""
    readonly: str
    """The operators' read-only role."""

    def __repr__(self) -> str:
        # Shown in a failing test's report: the roles and the database, not their passwords.
        return f"DatabaseUrls(runtime={redacted(self.runtime)!r}, …)"


def _url(server_url: str, database: str, role: str | None = None, password: str | None = None) -> str:
    """`server_url` pointed at `database`, as `role` with `password` when given (else as the server's own user)."""
    parts = urlsplit(server_url)
    netloc = parts.netloc
    if role is not None:
        netloc = f"{role}:{quote(password or '', safe='')}@{netloc.rsplit('@', 1)[-1]}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


@asynccontextmanager
async def database_of_its_own(
    postgres_server: tuple[str, dict[str, str]], prefix: str, *, migrated: bool = True
) -> AsyncIterator[DatabaseUrls]:
    """A new database on the test server, owned by the owner role (and migrated as it), dropped after the block."""
    server_url, passwords = postgres_server
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" OWNER {OWNER}')
    finally:
        await admin.close()
    urls = DatabaseUrls(
        admin=_url(server_url, name),
        owner=_url(server_url, name, OWNER, passwords[OWNER]),
        runtime=_url(server_url, name, RUNTIME, passwords[RUNTIME]),
        readonly=_url(server_url, name, READONLY, passwords[READONLY]),
    )
    try:
        if migrated:
            await migrate(urls.owner)
        yield urls
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def runtime_pool_of_its_own(
    postgres_server: tuple[str, dict[str, str]], prefix: str
) -> AsyncIterator[asyncpg.Pool]:
    """A pool of the application's role on a new, migrated database of its own, dropped after the block: for tests
    whose streams must be the whole log, or must not reach the others' boards and listings."""
    async with database_of_its_own(postgres_server, prefix) as urls:
        pool = await create_pool(urls.runtime)
        try:
            yield pool
        finally:
            await pool.close()
