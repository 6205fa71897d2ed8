"""Least privilege in PostgreSQL: what the runtime and the read-only role may not do (database/privileges.sql).

The rest of the suite shows the application works as the runtime role (tests/conftest.py connects it so); these
tests show that the same role cannot rewrite the record, and that the operators' role only reads.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from database import create_pool, migrate, redacted
from database.roles import OWNER, READONLY, ROLES, RUNTIME
from devstack.ports import free_port
from devstack.postgres import POSTGRES_BIN_PATH, SUPERUSER, EmbeddedPostgres
from devstack.stack import embedded_stack
from devstack.stack_file import STACK_FILE
from eventstore import EventStore, NewEvent, verify_chains
from settings import Settings
from tests.conftest import DatabaseUrls

ROOT = Path(__file__).resolve().parents[2]

# The event log and the registers written beside it, which nobody but their owner may change.
EVENT_TABLES = ("events", "decisions", "participant_erasures")

INSUFFICIENT_PRIVILEGE = "42501"


def refusals(table: str) -> dict[str, str]:
    """Every way of changing a table that the runtime role must be refused."""
    return {
        "UPDATE": f"UPDATE {table} SET {_any_column(table)} = {_any_column(table)}",
        "DELETE": f"DELETE FROM {table}",
        "TRUNCATE": f"TRUNCATE {table} CASCADE",
        "ALTER TABLE": f"ALTER TABLE {table} ADD COLUMN forged text",
        "DISABLE TRIGGER": f"ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP": f"DROP TABLE {table} CASCADE",
    }


def _any_column(table: str) -> str:
    return {"events": "event_type", "decisions": "diarienummer", "participant_erasures": "erased_at"}[table]


@pytest_asyncio.fixture
async def runtime(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest_asyncio.fixture
async def readonly(database_urls: DatabaseUrls) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_urls.readonly)
    yield connection
    await connection.close()


def new_event(**data: object) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type="Probed", schema_version=1, data=dict(data))


@pytest.mark.parametrize("table", EVENT_TABLES)
@pytest.mark.parametrize("statement", list(refusals("events")))
async def test_the_runtime_role_cannot_change_the_event_tables(
    runtime: asyncpg.Connection, table: str, statement: str
) -> None:
    assert await runtime.fetchval("SELECT current_user") == RUNTIME
    with pytest.raises(asyncpg.PostgresError) as caught:
        await runtime.execute(refusals(table)[statement])
    assert caught.value.sqlstate == INSUFFICIENT_PRIVILEGE, caught.value


async def test_the_runtime_role_cannot_insert_events_past_the_append_function(runtime: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute(
            "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, data, stream_hash,"
            " global_hash) VALUES ('forged', 1, gen_random_uuid(), 'Forged', 1, '{}', sha256(''), sha256(''))"
        )


async def test_the_runtime_role_appends_through_the_function(database_url: str) -> None:
    pool = await create_pool(database_url, max_size=2)
    try:
        store = EventStore(pool)
        stream = f"roles-{uuid.uuid4().hex[:8]}"
        appended = await store.append(stream, 0, [new_event(n=1), new_event(n=2)])
        assert (appended.first_version, appended.last_version) == (1, 2)
        assert [event.data for event in await store.read_stream(stream)] == [{"n": 1}, {"n": 2}]
        report = await verify_chains(pool, stream_id=stream)
        assert report.first_break is None
    finally:
        await pool.close()


async def test_a_temporary_table_cannot_stand_in_for_the_event_log(runtime: asyncpg.Connection) -> None:
    """The append function runs with its owner's rights and a fixed search_path: a caller's temporary `events`,
    which would otherwise come first, is not what it reads the chain's head from, nor where it writes."""
    await runtime.execute(
        "CREATE TEMPORARY TABLE events (global_position bigint, stream_id text, stream_version bigint, event_id uuid,"
        " stream_hash bytea, global_hash bytea)"
    )
    stream = f"roles-{uuid.uuid4().hex[:8]}"
    await EventStore(runtime).append(stream, 0, [new_event(n=1)], connection=runtime)  # type: ignore[arg-type]

    assert await runtime.fetchval("SELECT count(*) FROM public.events WHERE stream_id = $1", stream) == 1
    assert await runtime.fetchval("SELECT count(*) FROM pg_temp.events") == 0


async def test_the_runtime_role_erases_a_person_only_with_the_record_of_it(
    runtime: asyncpg.Connection, owner_pool: asyncpg.Pool
) -> None:
    # In a municipality no test starts a pilot in, and gone again afterwards: the directory is the session's.
    person = f"p-roles-{uuid.uuid4().hex[:8]}"
    await owner_pool.execute(
        "INSERT INTO participants (participant_id, kommunkod, role, display_name, email)"
        " VALUES ($1, '2584', 'rektor', 'Roll Provsson', 'roll@example.invalid')",
        person,
    )
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("DELETE FROM participants WHERE participant_id = $1", person)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute(
                "INSERT INTO participant_erasures (participant_id, erasure_event_id) VALUES ($1, gen_random_uuid())",
                person,
            )
        with pytest.raises(asyncpg.PostgresError) as caught:
            await runtime.execute("SELECT leda_erase_participant($1, gen_random_uuid(), now())", person)
        assert caught.value.sqlstate == "LE004"
        assert await runtime.fetchval("SELECT count(*) FROM participants WHERE participant_id = $1", person) == 1
    finally:
        await owner_pool.execute("DELETE FROM participants WHERE participant_id = $1", person)


async def test_every_table_but_the_migrations_log_is_granted_to_the_runtime_role(runtime: asyncpg.Connection) -> None:
    """A table a migration adds without a grant in privileges.sql shows up here, not as a puzzling failure later."""
    withheld = await runtime.fetch(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT has_table_privilege(c.oid, 'SELECT')"
    )
    assert [row["relname"] for row in withheld] == ["schema_migrations"]


async def test_the_runtime_role_creates_no_tables(runtime: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.execute("CREATE TABLE public.shadow (id int)")


async def test_the_write_functions_run_as_their_owner_with_a_fixed_search_path(runtime: asyncpg.Connection) -> None:
    rows = await runtime.fetch(
        "SELECT proname, prosecdef, proconfig, pg_get_userbyid(proowner) AS owner,"
        " has_function_privilege('public', oid, 'EXECUTE') AS public_may_call"
        " FROM pg_proc WHERE proname IN ('leda_append_events', 'leda_erase_participant') ORDER BY proname"
    )
    # The append also plans its statements once per session (0020_append_without_scanning_the_log.sql).
    settings = {
        "leda_append_events": ["plan_cache_mode=force_generic_plan", "search_path=public, pg_temp"],
        "leda_erase_participant": ["search_path=public, pg_temp"],
    }
    assert [dict(row) for row in rows] == [
        {
            "proname": name,
            "prosecdef": True,
            "proconfig": settings[name],
            "owner": OWNER,
            "public_may_call": False,
        }
        for name in settings
    ]


async def test_the_read_only_role_reads_everything_and_changes_nothing(
    readonly: asyncpg.Connection, database_urls: DatabaseUrls
) -> None:
    assert await readonly.fetchval("SELECT current_user") == READONLY
    tables = [
        row["tablename"] for row in await readonly.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    assert "events" in tables and "participants" in tables
    for table in tables:
        await readonly.fetch(f"SELECT * FROM {table} LIMIT 1")
        for statement in (
            f"INSERT INTO {table} DEFAULT VALUES",
            f"UPDATE {table} SET {await _plain_column(readonly, table)} = NULL",
            f"DELETE FROM {table}",
            f"TRUNCATE {table} CASCADE",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await readonly.execute(statement)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await readonly.execute("SELECT leda_append_events('ops', 0, '[]'::jsonb)")

    pool = await create_pool(database_urls.readonly, max_size=1)
    try:
        assert (await verify_chains(pool)).first_break is None  # `leda verify` works as the operators' role
    finally:
        await pool.close()


async def _plain_column(connection: asyncpg.Connection, table: str) -> str:
    """A column an UPDATE may name (not an identity or generated one), so that only privileges can refuse it."""
    name: str = await connection.fetchval(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
        " AND attidentity = '' AND attgenerated = '' ORDER BY attnum LIMIT 1",
        table,
    )
    return name


async def test_migrating_again_keeps_the_grants(database_urls: DatabaseUrls, runtime: asyncpg.Connection) -> None:
    await migrate(database_urls.owner)
    assert await runtime.fetchval("SELECT has_table_privilege('events', 'SELECT')")
    assert not await runtime.fetchval("SELECT has_table_privilege('events', 'UPDATE')")


# ---- the compose stack's init script, run against a real server ----------------------------------------------------


@pytest.fixture
def bare_server() -> Iterator[EmbeddedPostgres]:
    """A server of this test's own, without Leda's roles: as the compose image's is before its init script runs."""
    parent = Path(tempfile.mkdtemp(prefix="leda-init-script-"))
    server = EmbeddedPostgres(parent / "data", free_port(), database="postgres")
    server.start()
    try:
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                server.admin_dsn,
                "-c",
                f"DROP ROLE {', '.join(ROLES)}",
            ],
            check=True,
            capture_output=True,
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


async def test_the_compose_init_script_makes_roles_the_application_runs_as(bare_server: EmbeddedPostgres) -> None:
    passwords = {
        "TEMPORAL_DB_PASSWORD": "temporal-pw",
        "LEDA_DB_OWNER_PASSWORD": "owner-pw",
        "LEDA_DB_RUNTIME_PASSWORD": "runtime-pw",
        "LEDA_DB_READONLY_PASSWORD": "readonly-pw",
    }
    superuser_password = json.loads(bare_server.passwords_file.read_text())[SUPERUSER]
    # As the postgres image runs it: psql on PATH, the superuser's name in POSTGRES_USER, the passwords in the
    # environment; here over TCP, which PGHOST and PGPORT point psql at.
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(ROOT / "deploy" / "postgres-init.sh"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            "PATH": f"{POSTGRES_BIN_PATH}:{os.environ.get('PATH', '')}",
            "POSTGRES_USER": SUPERUSER,
            "PGHOST": "127.0.0.1",
            "PGPORT": str(bare_server.port),
            "PGPASSWORD": superuser_password,
            **passwords,
        },
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()

    def url(role: str, password: str, database: str) -> str:
        parts = urlsplit(bare_server.admin_dsn)
        return urlunsplit(
            parts._replace(netloc=f"{role}:{password}@{parts.hostname}:{parts.port}", path=f"/{database}")
        )

    owner = url(OWNER, "owner-pw", "leda")
    await migrate(owner)
    pool = await create_pool(url(RUNTIME, "runtime-pw", "leda"), max_size=1)
    try:
        await EventStore(pool).append("init-script", 0, [new_event(n=1)])
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute("UPDATE events SET event_type = 'Forged'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute("CREATE TEMPORARY TABLE scratch (id int)")  # no TEMP on Leda's database
    finally:
        await pool.close()
    reader = await asyncpg.connect(url(READONLY, "readonly-pw", "leda"))
    try:
        assert await reader.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await reader.close()
    # Temporal and Leda cannot reach each other's databases.
    for role, password, database in (
        ("temporal", "temporal-pw", "leda"),
        (RUNTIME, "runtime-pw", "temporal"),
        (OWNER, "owner-pw", "temporal_visibility"),
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(url(role, password, database))
    temporal = await asyncpg.connect(url("temporal", "temporal-pw", "temporal"))
    try:
        assert await temporal.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'temporal'"
        ) == ("temporal")
        await temporal.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")  # as Temporal's visibility schema does
    finally:
        await temporal.close()


# ---- the embedded stack ----------------------------------------------------------------------------------------------


@pytest.mark.devserver
async def test_the_embedded_stack_migrates_as_the_owner_and_runs_the_application_as_the_runtime_role() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="leda-stack-roles-"))  # not under tmp_path: see tests/conftest.py
    settings = Settings(
        data_dir=data_dir,
        database_url=None,  # the embedded PostgreSQL, whatever the environment says
        migration_database_url=None,
        postgres_port=free_port(),
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        smtp_port=free_port(),
        kolada_port=free_port(),
        api_port=free_port(),
    )
    try:
        async with embedded_stack(settings) as stack:
            assert stack.settings.database_url is not None
            url = urlsplit(stack.settings.database_url.get_secret_value())
            assert url.username == RUNTIME
            assert url.password and url.password not in repr(stack.settings) and url.password not in str(stack)
            assert redacted(stack.database_url) == urlunsplit(
                url._replace(netloc=f"{RUNTIME}:***@{url.hostname}:{url.port}")
            )

            stack_file = data_dir / STACK_FILE
            assert stat.S_IMODE(stack_file.stat().st_mode) == 0o600  # it holds the runtime role's password
            assert json.loads(stack_file.read_text())["database_url"] == stack.settings.database_url.get_secret_value()

            connection = await asyncpg.connect(stack.settings.database_url.get_secret_value())
            try:
                assert await connection.fetchval(
                    "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'events'"
                ) == (OWNER)
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await connection.execute("DELETE FROM events")
            finally:
                await connection.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ---- `leda migrate` ----------------------------------------------------------------------------------------------


async def leda_migrate(**env: str) -> tuple[int, str, str]:
    base = {key: value for key, value in os.environ.items() if "DATABASE_URL" not in key}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "leda"),
        "migrate",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**base, **env},
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_leda_migrate_runs_as_the_owner_from_its_own_url(database_urls: DatabaseUrls) -> None:
    code, out, err = await leda_migrate(
        LEDA_MIGRATION_DATABASE_URL=database_urls.owner, DATABASE_URL=database_urls.runtime
    )
    assert code == 0, err
    assert "migrations applied: none (up to date)" in out


async def test_leda_migrate_as_the_runtime_role_says_which_url_to_set_and_shows_no_password(
    database_urls: DatabaseUrls,
) -> None:
    code, out, err = await leda_migrate(DATABASE_URL=database_urls.runtime)
    assert code != 0
    assert "LEDA_MIGRATION_DATABASE_URL" in err
    password = urlsplit(database_urls.runtime).password
    assert password and password not in out + err
