"""Projections never miss an event that commits out of order (the gap problem).

A projection tails the log by global position: it reads ``WHERE global_position > checkpoint`` and moves its
checkpoint to the last position it applied. With identity values handed out at insert time and transactions
committing in any order, position N+1 can become visible while N is still uncommitted; the reader moves past
N, and when N commits it is never read. The field notes measured a naive reader missing 21-31 % of events
with 8 writers whose commits were delayed 0-4 ms.

Leda's store closes the gap at the writer: ``leda_append_events`` takes one transaction-level advisory lock
before it draws positions and holds it until its transaction commits or rolls back. At any moment at most
one append is uncommitted, and it holds the highest positions, so nothing visible to a reader can have an
uncommitted event below it. A rolled-back append leaves a hole that stays a hole; a late commit never fills
a position behind a reader.

The test drives the real paths: each writer appends through ``EventStore.append`` inside its own transaction
and sleeps 0-4 ms before committing; the reader is ``InboxProjection.catch_up``, whose batches and
checkpoint (in ``projection_checkpoints``) are those of the inbox. The control shows the same harness
missing events when the writers are not serialised.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg

from eventstore import EventStore, NewEvent
from projections import InboxProjection

WRITERS = 8
APPENDS_PER_WRITER = 40
MAX_COMMIT_DELAY = 0.004


class RecordingProjection(InboxProjection):
    """The inbox's catch-up machinery (reads, batches, checkpoint), recording the events of each batch it applies."""

    def __init__(self, pool: asyncpg.Pool, *, prefix: str) -> None:
        super().__init__(pool, name=f"gap-test-{uuid.uuid4().hex[:8]}", batch_size=25)
        self.prefix = prefix
        self.seen: list[Any] = []

    async def _fold(self, connection: asyncpg.Connection, batch: Any) -> Any:
        self.seen.extend(row for row in batch.rows if row["stream_id"].startswith(self.prefix))
        return await super()._fold(connection, batch)


async def test_a_projection_misses_no_event_of_eight_writers_whose_commits_are_delayed(db_pool: asyncpg.Pool) -> None:
    store = EventStore(db_pool)
    prefix = f"gap-{uuid.uuid4().hex[:8]}"
    projection = RecordingProjection(db_pool, prefix=prefix)
    # Start at the head of the shared log: the projection only needs to see what this test writes.
    head = await db_pool.fetchval("SELECT coalesce(max(global_position), 0) FROM events")
    await db_pool.execute("INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)", projection.name, head)
    written: list[uuid.UUID] = []
    writers_done = asyncio.Event()

    async def writer(number: int) -> None:
        stream = f"{prefix}-{number}"
        for version in range(APPENDS_PER_WRITER):
            event = NewEvent(event_id=uuid.uuid4(), event_type="GapProbe", schema_version=1, data={"n": version})
            async with db_pool.acquire() as connection, connection.transaction():
                await store.append(stream, version, [event], connection=connection)
                await asyncio.sleep(random.uniform(0, MAX_COMMIT_DELAY))  # commit late
            written.append(event.event_id)

    async def tail() -> None:
        while not writers_done.is_set():
            await projection.catch_up()
            await asyncio.sleep(0)
        await projection.catch_up()  # everything has committed: drain the rest

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    writers_done.set()
    await reader

    # The projection reads an event it does not view by its place alone: what it saw, by id, from those places.
    positions = [row["global_position"] for row in projection.seen]
    ids_at = dict(
        await db_pool.fetch("SELECT global_position, event_id FROM events WHERE global_position = ANY($1)", positions)
    )
    seen_ids = [ids_at[position] for position in positions]
    missed = set(written) - set(seen_ids)
    assert len(written) == WRITERS * APPENDS_PER_WRITER
    assert missed == set(), f"the projection missed {len(missed)} of {len(written)} events"
    assert len(seen_ids) == len(set(seen_ids)) == len(written)  # each exactly once
    assert positions == sorted(positions)  # in global order
    assert await projection.checkpoint() >= max(positions)


async def test_control_a_naive_tail_over_unserialised_writers_misses_events(owner_pool: asyncpg.Pool) -> None:
    # The same harness without the append lock: plain identity inserts into a scratch table. If this ever
    # stopped missing events, the test above would prove nothing. As the schema's owner: the application's role
    # creates no tables.
    table = f"gap_control_{uuid.uuid4().hex[:8]}"
    await owner_pool.execute(
        f"CREATE TABLE {table} (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id uuid)"
    )
    try:
        written: list[uuid.UUID] = []
        seen: list[uuid.UUID] = []
        writers_done = asyncio.Event()

        async def writer() -> None:
            for _ in range(APPENDS_PER_WRITER):
                event_id = uuid.uuid4()
                async with owner_pool.acquire() as connection, connection.transaction():
                    await connection.execute(f"INSERT INTO {table} (id) VALUES ($1)", event_id)
                    await asyncio.sleep(random.uniform(0, MAX_COMMIT_DELAY))
                written.append(event_id)

        async def tail() -> None:
            checkpoint = 0
            while True:
                finished = writers_done.is_set()
                rows = await owner_pool.fetch(
                    f"SELECT position, id FROM {table} WHERE position > $1 ORDER BY position LIMIT 25", checkpoint
                )
                for row in rows:
                    seen.append(row["id"])
                    checkpoint = row["position"]
                if not rows:
                    if finished:
                        return
                    await asyncio.sleep(0)

        reader = asyncio.create_task(tail())
        await asyncio.gather(*(writer() for _ in range(WRITERS)))
        writers_done.set()
        await reader

        assert len(set(written) - set(seen)) > 0
    finally:
        await owner_pool.execute(f"DROP TABLE {table}")
