"""Apply the numbered SQL migrations in ``database/migrations`` that a database has not seen yet.

Migrations are plain ``NNNN_name.sql`` files so that a reviewer reads exactly what runs. Each is applied
in its own transaction together with its row in ``schema_migrations``, so a failed migration leaves
neither half-applied schema nor a false record. Because of that transaction, a migration cannot use
statements that refuse to run inside one (``CREATE INDEX CONCURRENTLY``, ``VACUUM``).

After the migrations, every run applies ``database/privileges.sql``: what the application's role and the operators'
read-only role may do (``database/roles.py``). Migrations run as the role that owns the schema, so that role owns
every table a migration creates, and the grants come from one file that states them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog
from pydantic import SecretStr

from database.roles import READONLY, RUNTIME
from database.urls import reveal

__all__ = ["MIGRATIONS_DIR", "PRIVILEGES_FILE", "Migration", "MigrationError", "discover_migrations", "migrate"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
PRIVILEGES_FILE = Path(__file__).resolve().parent / "privileges.sql"

# Session-level advisory lock taken for the whole run, so that several processes starting at once (two
# workers, a worker and the CLI) apply each migration exactly once. 'LEDM' in ASCII; it must differ from
# the event store's append lock ('LEDA'), which shares the same key space.
MIGRATION_LOCK_KEY = 1279607885

_FILE_NAME = re.compile(r"^(?P<number>[0-9]{4})_[a-z0-9_]+\.sql$")

_CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

_EXISTING_ROLES = "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])"

_OWNER_HINT = (
    "; migrations run as the role that owns the schema (leda_owner): set LEDA_MIGRATION_DATABASE_URL to its URL, "
    "not the application's"
)

_log = structlog.get_logger(__name__)


class MigrationError(Exception):
    """A migration file is misnamed, or it failed and was rolled back."""


@dataclass(frozen=True)
class Migration:
    """One migration file; ``name`` (the file name) is what ``schema_migrations`` records."""

    number: int
    name: str
    path: Path


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """List the migration files in ``directory`` in the order they must run.

    A ``.sql`` file that does not follow ``NNNN_name.sql``, or two files sharing a number (two branches
    that each added the next migration), is an error rather than something to skip or guess an order for.
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    by_number: dict[int, str] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql" or not path.is_file():
            continue
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"migration file {path.name!r} in {directory} is misnamed: expected NNNN_name.sql "
                f"(four digits, an underscore, then lower-case letters, digits and underscores)"
            )
        number = int(match["number"])
        if number in by_number:
            raise MigrationError(
                f"migrations {by_number[number]!r} and {path.name!r} share number {number:04d}; renumber one of them"
            )
        by_number[number] = path.name
        migrations.append(Migration(number=number, name=path.name, path=path))
    return sorted(migrations, key=lambda migration: migration.number)


async def migrate(
    dsn: str | SecretStr, *, migrations_dir: Path = MIGRATIONS_DIR, privileges: Path | None = None
) -> list[str]:
    """Apply every migration not yet recorded in ``schema_migrations``, then the privileges; return the names of the
    migrations applied, in order.

    ``dsn`` is the schema owner's (``LEDA_MIGRATION_DATABASE_URL``). ``privileges`` defaults to privileges.sql for
    Leda's own migrations, and to none for another directory's.
    """
    if privileges is None and migrations_dir == MIGRATIONS_DIR:
        privileges = PRIVILEGES_FILE
    # Read the files before connecting: a broken checkout should fail without touching the database.
    migrations = discover_migrations(migrations_dir)
    privileges_sql = privileges.read_text(encoding="utf-8") if privileges is not None else None
    connection = await asyncpg.connect(reveal(dsn))
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await connection.execute(_CREATE_SCHEMA_MIGRATIONS)
        except asyncpg.InsufficientPrivilegeError as error:
            raise MigrationError(f"cannot create schema_migrations: {error}{_OWNER_HINT}") from error
        already_applied = {row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")}

        unknown = sorted(already_applied - {migration.name for migration in migrations})
        if unknown:
            # A newer release has migrated this database; this code may not understand the schema.
            _log.warning("database has migrations this code does not know", migrations=unknown)

        applied: list[str] = []
        for migration in migrations:
            if migration.name in already_applied:
                continue
            sql = migration.path.read_text(encoding="utf-8")
            try:
                async with connection.transaction():
                    await connection.execute(sql)
                    await connection.execute("INSERT INTO schema_migrations (name) VALUES ($1)", migration.name)
            except asyncpg.PostgresError as error:
                raise MigrationError(
                    f"migration {migration.name} failed and was rolled back: {type(error).__name__}: {error}"
                    + _OWNER_HINT * isinstance(error, asyncpg.InsufficientPrivilegeError)
                ) from error
            _log.info("applied migration", migration=migration.name)
            applied.append(migration.name)
        if privileges_sql is not None:
            await _grant_privileges(connection, privileges_sql)
        return applied
    finally:
        # Closing the session releases the advisory lock, also when a migration failed mid-way.
        await connection.close()


async def _grant_privileges(connection: asyncpg.Connection, sql: str) -> None:
    """Apply privileges.sql in one transaction, when the roles it grants to exist.

    Creating roles takes an administrator, which the migrating role is not meant to be (README: Security). Where
    nobody created them, the application cannot be connecting as them either: the grants are skipped with a
    warning rather than failing a migration that the application, connected as some other role, still needs.
    """
    existing = {row["rolname"] for row in await connection.fetch(_EXISTING_ROLES, [RUNTIME, READONLY])}
    missing = sorted({RUNTIME, READONLY} - existing)
    if missing:
        _log.warning(
            "database roles missing: privileges not granted; create them as an administrator "
            "(README: Security) and run leda migrate again",
            roles=missing,
        )
        return
    try:
        async with connection.transaction():
            await connection.execute(sql)
    except asyncpg.PostgresError as error:
        raise MigrationError(
            f"privileges.sql failed and was rolled back: {type(error).__name__}: {error}"
            + _OWNER_HINT * isinstance(error, asyncpg.InsufficientPrivilegeError)
        ) from error
    _log.info("granted privileges", roles=[RUNTIME, READONLY])
