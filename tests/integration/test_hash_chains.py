"""The hash chains of the event store: every event linked to its stream's and the store's previous event.

Tampering needs the append-only trigger switched off, which the owner of the table may do; these tests do it
in a database of their own, so the session database stays intact for every other test that verifies it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from database import create_pool, migrate
from database.migrate import MIGRATIONS_DIR
from eventstore import EventStore, NewEvent, StoredEvent, verify_chains
from eventstore.verify import GENESIS, link


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database on the test server, dropped afterwards."""
    name = f"leda_chains_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def new_events(count: int, **data: Any) -> list[NewEvent]:
    return [
        NewEvent(event_id=uuid.uuid4(), event_type="TaskCompleted", schema_version=1, data={"n": n, **data})
        for n in range(count)
    ]


@pytest_asyncio.fixture
async def own_pool(postgres_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A migrated database of this test's own, which it may tamper with."""
    async with fresh_database(postgres_server_url) as url:
        await migrate(url)
        pool = await create_pool(url)
        try:
            yield pool
        finally:
            await pool.close()


async def tamper(pool: asyncpg.Pool, statement: str, *args: object) -> None:
    """Run an UPDATE or DELETE on events past the append-only trigger, as the table's owner could."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await connection.execute(statement, *args)
        await connection.execute("ALTER TABLE events ENABLE TRIGGER USER")


async def interleaved_streams(store: EventStore) -> dict[str, list[StoredEvent]]:
    """Three streams whose appends alternate, so stream order and global order differ."""
    streams = [f"chain-{name}-{uuid.uuid4().hex[:8]}" for name in ("a", "b", "c")]
    for round_ in range(3):
        for stream in streams:
            await store.append(stream, round_ * 2, new_events(2, round=round_))
    return {stream: await store.read_stream(stream) for stream in streams}


async def test_appended_events_verify_intact_and_the_head_is_the_last_global_hash(own_pool: asyncpg.Pool) -> None:
    store = EventStore(own_pool)
    streams = await interleaved_streams(store)

    report = await verify_chains(own_pool)

    last = max((event for events in streams.values() for event in events), key=lambda e: e.global_position)
    assert report.intact and report.breaks == []
    assert (report.events, report.streams) == (18, 3)
    assert (report.head_position, report.head_hash) == (last.global_position, last.global_hash)


async def test_each_link_is_sha256_of_the_previous_hash_and_the_event_s_canonical_text(
    own_pool: asyncpg.Pool,
) -> None:
    # The canonical text as 0010_hash_chains.sql defines it, built here independently of the database: keys of
    # a jsonb object come shorter first (in bytes), then bytewise; recorded_at in UTC with microseconds.
    store = EventStore(own_pool)
    stream = f"chain-{uuid.uuid4().hex[:8]}"
    data = {"kommun": "Hallsberg", "n": 1, "ö": "å", "nested": {"bb": [1, 2], "a": None}}
    await store.append(
        stream, 0, [NewEvent(event_id=uuid.uuid4(), event_type="TaskCompleted", schema_version=1, data=data)]
    )
    await store.append(stream, 1, new_events(1))
    first, second = await store.read_stream(stream)

    def jsonb_text(value: object) -> str:
        if isinstance(value, dict):
            keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
            return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {jsonb_text(value[k])}" for k in keys) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
        return json.dumps(value, ensure_ascii=False)

    def digest(event: StoredEvent) -> bytes:
        canonical = [
            "leda-event-1",
            str(event.event_id),
            event.stream_id,
            event.stream_version,
            event.global_position,
            event.event_type,
            event.schema_version,
            event.data,
            event.metadata,
            event.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ]
        return hashlib.sha256(jsonb_text(canonical).encode()).digest()

    assert first.stream_hash == link(GENESIS, digest(first)).hex()
    assert second.stream_hash == link(bytes.fromhex(first.stream_hash), digest(second)).hex()
    assert second.global_hash == link(bytes.fromhex(first.global_hash), bytes.fromhex(second.stream_hash)).hex()


async def test_a_changed_event_is_named_as_the_first_broken_one(own_pool: asyncpg.Pool) -> None:
    store = EventStore(own_pool)
    streams = await interleaved_streams(store)
    target = list(streams.values())[1][3]

    await tamper(own_pool, "UPDATE events SET data = data || '{\"n\": 99}' WHERE event_id = $1", target.event_id)
    report = await verify_chains(own_pool)

    assert not report.intact and report.breaks_total == 1
    first = report.first_break
    assert first is not None
    assert (first.chain, first.event_id, first.stream_id, first.stream_version, first.global_position) == (
        "stream",
        target.event_id,
        target.stream_id,
        target.stream_version,
        target.global_position,
    )
    assert first.found == target.stream_hash and first.expected != first.found
    assert "was changed" in first.problem


async def test_a_deleted_event_in_the_middle_breaks_the_links_of_its_successors(own_pool: asyncpg.Pool) -> None:
    store = EventStore(own_pool)
    streams = await interleaved_streams(store)
    a, b, _ = streams.values()
    deleted = a[3]  # stream a, version 4: a[4] follows it in its stream, b[2] in the global order

    await tamper(own_pool, "DELETE FROM events WHERE event_id = $1", deleted.event_id)
    report = await verify_chains(own_pool)

    assert {(brk.chain, brk.event_id) for brk in report.breaks} == {
        ("stream", a[4].event_id),
        ("global", b[2].event_id),
    }
    first = report.first_break
    assert first is not None and first.event_id == b[2].event_id
    assert first.global_position == deleted.global_position + 1
    stream_break = next(brk for brk in report.breaks if brk.chain == "stream")
    assert "version 5 follows version 3" in stream_break.problem


async def test_an_event_rewritten_with_a_recomputed_stream_hash_is_caught_by_the_global_chain(
    own_pool: asyncpg.Pool,
) -> None:
    store = EventStore(own_pool)
    streams = await interleaved_streams(store)
    stream = list(streams.values())[2]
    target = stream[1]

    await tamper(
        own_pool,
        """
        UPDATE events
           SET data = '{"forged": true}',
               stream_hash = leda_chain_link(decode($2, 'hex'), leda_event_digest(event_id, stream_id, stream_version,
                             global_position, event_type, schema_version, '{"forged": true}', metadata, recorded_at))
         WHERE event_id = $1
        """,
        target.event_id,
        stream[0].stream_hash,
    )
    report = await verify_chains(own_pool)

    assert {(brk.chain, brk.event_id) for brk in report.breaks} == {
        ("global", target.event_id),  # its stream hash no longer fits the global chain
        ("stream", stream[2].event_id),  # and the next event of its stream chained from the old one
    }
    first = report.first_break
    assert first is not None and (first.chain, first.event_id) == ("global", target.event_id)


async def test_verifying_one_stream_checks_its_chain_alone(own_pool: asyncpg.Pool) -> None:
    store = EventStore(own_pool)
    streams = await interleaved_streams(store)
    (a_id, a), (b_id, b) = list(streams.items())[:2]
    await tamper(own_pool, "UPDATE events SET event_type = 'Forged' WHERE event_id = $1", b[0].event_id)

    only_a = await verify_chains(own_pool, stream_id=a_id)
    only_b = await verify_chains(own_pool, stream_id=b_id)

    assert only_a.intact and (only_a.events, only_a.streams) == (len(a), 1)
    assert only_a.head_hash is None  # the global chain was not walked
    assert [brk.event_id for brk in only_b.breaks] == [b[0].event_id]


async def test_events_recorded_before_the_chains_existed_are_chained_by_the_migration(
    postgres_server_url: str, tmp_path: Path
) -> None:
    before_chains = tmp_path / "migrations"
    before_chains.mkdir()
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        if migration.name < "0010":
            shutil.copy(migration, before_chains / migration.name)

    async with fresh_database(postgres_server_url) as url:
        await migrate(url, migrations_dir=before_chains)
        pool = await create_pool(url)
        try:
            for stream in ("old-a", "old-b", "old-a"):
                version = await pool.fetchval(
                    "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream
                )
                batch = [e.model_dump(mode="json") for e in new_events(2)]
                await pool.fetch(
                    "SELECT * FROM leda_append_events($1, $2, $3::text::jsonb)", stream, version, json.dumps(batch)
                )

            assert "0010_hash_chains.sql" in await migrate(url)
            await EventStore(pool).append("old-a", 4, new_events(1))  # appends chain on from the backfilled head
            report = await verify_chains(pool)

            assert report.intact and (report.events, report.streams) == (7, 2)
            with pytest.raises(asyncpg.PostgresError, match="append-only"):  # the trigger is on again
                await pool.execute("UPDATE events SET event_type = 'Forged'")
        finally:
            await pool.close()
