"""The PostgreSQL event store and its migrations, against a real server.

Every test writes to streams named with a fresh uuid, so tests share the session database without
depending on each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from database import MigrationError, create_pool, migrate
from database.migrate import MIGRATIONS_DIR, discover_migrations
from eventstore import (
    SQLSTATE_APPEND_ONLY,
    AppendResult,
    EventIdConflict,
    EventStore,
    EventStoreError,
    NewEvent,
    WrongExpectedVersion,
)
from tests.databases import database_of_its_own


def unique_stream(prefix: str = "municipality") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def new_events(count: int, event_type: str = "TaskCompleted", **data: Any) -> list[NewEvent]:
    return [
        NewEvent(event_id=uuid.uuid4(), event_type=event_type, schema_version=1, data={"n": n, **data})
        for n in range(count)
    ]


@pytest.fixture
def store(db_pool: asyncpg.Pool) -> EventStore:
    return EventStore(db_pool)


async def wait_for_lock_waiters(pool: asyncpg.Pool, count: int) -> None:
    """Return once ``count`` sessions of this database are queued on an advisory lock (10 s at most)."""
    query = """
        SELECT count(*) FROM pg_locks
         WHERE locktype = 'advisory' AND NOT granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    """
    async with asyncio.timeout(10):
        while True:
            if await pool.fetchval(query) >= count:
                return
            await asyncio.sleep(0.01)  # waiting sessions live in pg_locks; nothing to await but polling


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database on the test server, for tests of migrating from nothing."""
    name = f"leda_migrate_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# --- appending ------------------------------------------------------------------------------------------


async def test_appending_to_a_new_stream_stores_the_batch_at_versions_from_one(store: EventStore) -> None:
    stream = unique_stream()
    batch = [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type="ProgrammeStarted",
            schema_version=2,
            data={"kommun": "Hallsberg", "faser": ["kartläggning", "analys"], "nested": {"ok": True}},
            metadata={"actor": "participant-17"},
        ),
        *new_events(2),
    ]

    result = await store.append(stream, 0, batch)

    assert result.stream_id == stream
    assert (result.first_version, result.last_version) == (1, 3)
    assert result.already_stored is False
    assert result.global_positions == sorted(result.global_positions)
    stored = await store.read_stream(stream)
    assert [event.event_id for event in stored] == [event.event_id for event in batch]
    assert [event.global_position for event in stored] == result.global_positions
    assert stored[0].data == batch[0].data
    assert stored[0].metadata == {"actor": "participant-17"}
    assert stored[0].schema_version == 2
    assert stored[1].metadata == {}


async def test_concurrent_appends_with_the_same_expected_version_let_exactly_one_win(
    store: EventStore, db_pool: asyncpg.Pool
) -> None:
    stream = unique_stream()
    await store.append(stream, 0, new_events(1))

    # A third writer holds the append lock so both contenders are queued on it at once, then lets go.
    async with db_pool.acquire() as blocker:
        transaction = blocker.transaction()
        await transaction.start()
        await store.append(unique_stream("blocker"), 0, new_events(1), connection=blocker)
        contenders = [asyncio.create_task(store.append(stream, 1, new_events(1))) for _ in range(2)]
        await wait_for_lock_waiters(db_pool, 2)
        await transaction.rollback()
        outcomes = await asyncio.gather(*contenders, return_exceptions=True)

    winners = [outcome for outcome in outcomes if isinstance(outcome, AppendResult)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, WrongExpectedVersion)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert winners[0].first_version == 2
    assert (losers[0].stream_id, losers[0].expected, losers[0].actual) == (stream, 1, 2)
    assert await store.stream_version(stream) == 2


# A batch of one event takes a path of its own in leda_append_events (0021): the tests of what an append
# guarantees run with both sizes.
BATCH_SIZES = pytest.mark.parametrize("size", [1, 3], ids=["one event", "a batch"])


@BATCH_SIZES
async def test_expected_version_zero_on_an_existing_stream_is_refused(store: EventStore, size: int) -> None:
    stream = unique_stream()
    await store.append(stream, 0, new_events(2))

    with pytest.raises(WrongExpectedVersion) as caught:
        await store.append(stream, 0, new_events(size))

    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (stream, 0, 2)
    assert stream in str(caught.value) and "expected 0" in str(caught.value) and "actual 2" in str(caught.value)
    assert await store.stream_version(stream) == 2


@BATCH_SIZES
async def test_retried_append_with_the_same_event_ids_stores_no_duplicates(store: EventStore, size: int) -> None:
    stream = unique_stream()
    batch = new_events(size)
    first = await store.append(stream, 0, batch)

    retry = await store.append(stream, 0, batch)

    assert retry.already_stored is True
    assert (retry.first_version, retry.last_version) == (1, size)
    assert retry.global_positions == first.global_positions
    assert [event.event_id for event in await store.read_stream(stream)] == [e.event_id for e in batch]


@BATCH_SIZES
async def test_retry_is_recognised_after_the_stream_moved_on(store: EventStore, size: int) -> None:
    stream = unique_stream()
    batch = new_events(size)
    first = await store.append(stream, 0, batch)
    await store.append(stream, size, new_events(1))

    retry = await store.append(stream, 0, batch)

    assert retry.already_stored is True
    assert (retry.first_version, retry.last_version) == (1, size)
    assert retry.global_positions == first.global_positions
    assert await store.stream_version(stream) == size + 1


async def test_partial_overlap_with_stored_event_ids_raises_event_id_conflict(store: EventStore) -> None:
    stream = unique_stream()
    stored = new_events(2)
    await store.append(stream, 0, stored)

    with pytest.raises(EventIdConflict) as caught:
        await store.append(stream, 2, [stored[1], *new_events(1)])

    assert caught.value.event_id == stored[1].event_id
    assert (caught.value.stored_stream_id, caught.value.stored_version) == (stream, 2)
    assert await store.stream_version(stream) == 2


@BATCH_SIZES
async def test_event_id_stored_in_another_stream_raises_event_id_conflict(store: EventStore, size: int) -> None:
    original, other = unique_stream(), unique_stream()
    batch = new_events(size)
    await store.append(original, 0, batch)

    with pytest.raises(EventIdConflict) as caught:
        await store.append(other, 0, batch)

    assert caught.value.stored_stream_id == original
    assert other in str(caught.value) and original in str(caught.value)
    assert await store.stream_version(other) == 0


_WELL_FORMED = {"event_id": "", "event_type": "TaskCompleted", "schema_version": 1, "data": {}}


@BATCH_SIZES
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (None, "is not a JSON object"),
        ({"event_id": 7}, "needs event_id as a UUID string"),
        ({"event_type": ""}, "needs event_type as a non-empty string"),
        ({"schema_version": "1"}, "needs schema_version as a positive integer"),
        ({"schema_version": 1.5}, "needs schema_version as a positive integer"),
        ({"schema_version": 0}, "needs schema_version as a positive integer"),
        ({"data": []}, "needs data as a JSON object"),
        ({"metadata": "x"}, "has metadata that is not a JSON object"),
    ],
)
async def test_the_append_function_names_a_malformed_event_and_stores_nothing(
    db_pool: asyncpg.Pool, size: int, change: dict[str, Any] | None, problem: str
) -> None:
    """The function is the only way to write events, and the application's role may call it directly: it checks
    each event itself, whatever the Python side checked first."""
    stream = unique_stream()
    batch: list[Any] = [{**_WELL_FORMED, "event_id": str(uuid.uuid4())} for _ in range(size)]
    batch[-1] = ["not", "an", "object"] if change is None else {**batch[-1], **change}

    with pytest.raises(asyncpg.InvalidParameterValueError) as caught:
        await db_pool.fetch("SELECT * FROM leda_append_events($1, 0, $2::text::jsonb)", stream, json.dumps(batch))

    assert f'event {size} of {size} for stream "{stream}" {problem}' in str(caught.value)
    assert await db_pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == 0


@BATCH_SIZES
async def test_the_append_function_refuses_an_event_id_that_is_not_a_uuid(db_pool: asyncpg.Pool, size: int) -> None:
    stream = unique_stream()
    batch = [{**_WELL_FORMED, "event_id": str(uuid.uuid4())} for _ in range(size)]
    batch[-1]["event_id"] = "not-a-uuid"

    with pytest.raises(asyncpg.InvalidTextRepresentationError, match="not-a-uuid"):
        await db_pool.fetch("SELECT * FROM leda_append_events($1, 0, $2::text::jsonb)", stream, json.dumps(batch))

    assert await db_pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == 0


async def test_append_inside_a_caller_transaction_rolls_back_with_it(store: EventStore, db_pool: asyncpg.Pool) -> None:
    stream = unique_stream()
    async with db_pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await store.append(stream, 0, new_events(2), connection=connection)
        assert await connection.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == 2
        await transaction.rollback()

    assert await store.stream_version(stream) == 0


async def test_append_outside_read_committed_is_refused(store: EventStore, db_pool: asyncpg.Pool) -> None:
    stream = unique_stream()
    async with db_pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
        with pytest.raises(EventStoreError, match="READ COMMITTED"):
            await store.append(stream, 0, new_events(1), connection=connection)


async def test_append_refuses_an_empty_batch(store: EventStore) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        await store.append(unique_stream(), 0, [])


async def test_reader_tailing_by_global_position_misses_no_concurrently_committed_event(
    store: EventStore, db_pool: asyncpg.Pool
) -> None:
    # The gap problem: writers whose commits are delayed would let a tailing reader move its checkpoint
    # past an event that commits later. Serialised appends must make that impossible.
    checkpoint = await db_pool.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
    prefix = unique_stream("tail")
    written: set[uuid.UUID] = set()
    seen: list[uuid.UUID] = []
    writers_done = asyncio.Event()

    async def writer(number: int) -> None:
        stream = f"{prefix}-{number}"
        for version in range(10):
            batch = new_events(1)
            async with db_pool.acquire() as connection, connection.transaction():
                await store.append(stream, version, batch, connection=connection)
                await asyncio.sleep(random.uniform(0, 0.004))  # commit late
            written.add(batch[0].event_id)

    async def tail() -> None:
        nonlocal checkpoint
        while True:
            finished = writers_done.is_set()  # read before the page, so the last pages drain everything
            page = await store.read_all(after_position=checkpoint, limit=50)
            for event in page:
                checkpoint = event.global_position
                if event.stream_id.startswith(prefix):
                    seen.append(event.event_id)
            if not page:
                if finished:
                    return
                await asyncio.sleep(0)

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(writer(number) for number in range(6)))
    writers_done.set()
    await reader

    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == written


async def test_an_append_reads_the_log_by_index_however_far_it_grew_since_the_session_planned_it(
    postgres_server: tuple[str, dict[str, str]],
) -> None:
    # PostgreSQL plans the statements of leda_append_events once per session, as the pool's long-lived connections
    # do. Planned while the log was small, 0013's lookup of the batch's ids became a hash join over a scan of the
    # whole log: each append read every event, under the store-wide lock. auto_explain shows each statement the
    # append runs, as it runs it.
    async with database_of_its_own(postgres_server, "leda_append_plans") as urls:
        session = await asyncpg.connect(urls.admin)  # LOAD 'auto_explain' is the superuser's
        filler = await create_pool(urls.runtime)
        try:
            planner = EventStore(session)  # type: ignore[arg-type]  # a connection answers fetch like a pool
            for version in range(8):  # past the calls after which PostgreSQL settles on a session's plan
                await planner.append("planned-early", version, new_events(1))
            store = EventStore(filler)
            for number in range(40):
                await store.append(f"filler-{number}", 0, new_events(50))

            plans: list[str] = []
            session.add_log_listener(lambda _connection, message: plans.append(message.message))
            await session.execute(
                "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
                "SET auto_explain.log_nested_statements = on; SET client_min_messages = log"
            )
            retried = new_events(1)
            await planner.append("planned-early", 8, retried)
            assert (await planner.append("planned-early", 8, retried)).already_stored
            await session.execute("RESET client_min_messages")
        finally:
            await session.close()
            await filler.close()

    reading_events = [plan for plan in plans if " on events" in plan]
    assert len(reading_events) >= 3, plans  # the id lookups, the heads, the retry's read-back
    assert not [plan for plan in reading_events if "Seq Scan on events" in plan]


# --- the append-only guard ------------------------------------------------------------------------------
# The application's role is refused these statements by privilege already (test_database_roles.py); the trigger
# guards against the mistakes of the schema's owner, so these tests are made as the owner.


async def test_update_of_events_is_refused_and_changes_nothing(store: EventStore, owner_pool: asyncpg.Pool) -> None:
    stream = unique_stream()
    await store.append(stream, 0, new_events(2))
    before = await store.read_stream(stream)

    with pytest.raises(asyncpg.PostgresError) as caught:
        await owner_pool.execute("UPDATE events SET event_type = 'Tampered' WHERE stream_id = $1", stream)

    assert caught.value.sqlstate == SQLSTATE_APPEND_ONLY
    assert "events are append-only: UPDATE" in str(caught.value)
    assert await store.read_stream(stream) == before


async def test_delete_of_events_is_refused_and_changes_nothing(store: EventStore, owner_pool: asyncpg.Pool) -> None:
    stream = unique_stream()
    await store.append(stream, 0, new_events(2))
    before = await store.read_stream(stream)

    with pytest.raises(asyncpg.PostgresError) as caught:
        await owner_pool.execute("DELETE FROM events WHERE stream_id = $1", stream)

    assert caught.value.sqlstate == SQLSTATE_APPEND_ONLY
    assert "events are append-only: DELETE" in str(caught.value)
    assert await store.read_stream(stream) == before


async def test_truncate_of_events_is_refused_and_changes_nothing(store: EventStore, owner_pool: asyncpg.Pool) -> None:
    await store.append(unique_stream(), 0, new_events(1))
    count_before = await owner_pool.fetchval("SELECT count(*) FROM events")

    with pytest.raises(asyncpg.PostgresError) as caught:
        # CASCADE: later migrations add tables referencing events, which plain TRUNCATE refuses first.
        await owner_pool.execute("TRUNCATE events CASCADE")

    assert caught.value.sqlstate == SQLSTATE_APPEND_ONLY
    assert "events are append-only: TRUNCATE" in str(caught.value)
    assert await owner_pool.fetchval("SELECT count(*) FROM events") == count_before


# --- reading --------------------------------------------------------------------------------------------


async def test_read_stream_returns_events_in_version_order_from_the_given_version(store: EventStore) -> None:
    stream = unique_stream()
    await store.append(stream, 0, new_events(2))
    await store.append(unique_stream(), 0, new_events(1))  # interleaved with another stream
    await store.append(stream, 2, new_events(3))

    everything = await store.read_stream(stream)
    from_four = await store.read_stream(stream, from_version=4)

    assert [event.stream_version for event in everything] == [1, 2, 3, 4, 5]
    assert [event.stream_version for event in from_four] == [4, 5]
    assert from_four == everything[3:]
    assert await store.read_stream(stream, from_version=6) == []
    assert await store.read_stream(unique_stream()) == []


async def test_read_all_pages_through_events_in_global_order(store: EventStore, db_pool: asyncpg.Pool) -> None:
    checkpoint = await db_pool.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
    first, second = unique_stream(), unique_stream()
    await store.append(first, 0, new_events(2))
    await store.append(second, 0, new_events(1))
    await store.append(first, 2, new_events(2))

    pages = []
    while page := await store.read_all(after_position=checkpoint, limit=2):
        pages.append(page)
        checkpoint = page[-1].global_position

    assert [len(page) for page in pages] == [2, 2, 1]
    events = [event for page in pages for event in page]
    positions = [event.global_position for event in events]
    assert positions == sorted(set(positions))
    assert [(event.stream_id, event.stream_version) for event in events] == [
        (first, 1),
        (first, 2),
        (second, 1),
        (first, 3),
        (first, 4),
    ]


async def test_stream_version_counts_the_events_of_a_stream(store: EventStore) -> None:
    stream = unique_stream()
    assert await store.stream_version(stream) == 0

    await store.append(stream, 0, new_events(3))

    assert await store.stream_version(stream) == 3


async def test_list_streams_filters_by_a_literal_prefix(store: EventStore) -> None:
    prefix = f"list-{uuid.uuid4().hex}_%"  # '_' and '%' must not act as LIKE wildcards
    inside = [f"{prefix}b", f"{prefix}a"]
    lookalike = prefix.replace("_%", "xx") + "c"
    for stream in [*inside, lookalike]:
        await store.append(stream, 0, new_events(2))

    assert await store.list_streams(prefix) == sorted(inside)
    everything = await store.list_streams()
    assert set(inside) | {lookalike} <= set(everything)
    assert everything == sorted(everything)


# --- migrations -----------------------------------------------------------------------------------------


async def test_migrate_is_idempotent(postgres_server_url: str) -> None:
    expected = [migration.name for migration in discover_migrations()]
    async with fresh_database(postgres_server_url) as url:
        first = await migrate(url)
        second = await migrate(url)

    assert first == expected
    assert first[:2] == ["0001_events.sql", "0002_directory.sql"]
    assert second == []


async def test_concurrent_migrations_apply_each_file_once(postgres_server_url: str) -> None:
    async with fresh_database(postgres_server_url) as url:
        runs = await asyncio.gather(*(migrate(url) for _ in range(3)))
        connection = await asyncpg.connect(url)
        try:
            recorded = [row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")]
        finally:
            await connection.close()

    applied = [name for run in runs for name in run]
    assert sorted(applied) == sorted(recorded) == [m.name for m in discover_migrations(MIGRATIONS_DIR)]


def test_a_misnamed_migration_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_events.sql").write_text("SELECT 1;")
    (tmp_path / "3_directory.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match="3_directory.sql"):
        discover_migrations(tmp_path)


def test_two_migrations_sharing_a_number_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0003_reports.sql").write_text("SELECT 1;")
    (tmp_path / "0003_mail.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match="share number 0003"):
        discover_migrations(tmp_path)


async def test_a_failing_migration_is_rolled_back_and_not_recorded(postgres_server_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE kept (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")

    async with fresh_database(postgres_server_url) as url:
        with pytest.raises(MigrationError, match="0002_broken.sql"):
            await migrate(url, migrations_dir=tmp_path)
        connection = await asyncpg.connect(url)
        try:
            recorded = [row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")]
            half = await connection.fetchval("SELECT to_regclass('half')")
        finally:
            await connection.close()

    assert recorded == ["0001_ok.sql"]
    assert half is None
