"""A rebuild of the inbox in SQL gives the very rows the projection gives batch by batch.

Random logs of many pilots (a fixed seed per case, so a failure can be replayed), with every kind of event the inbox
reads in every order that matters: tasks opened again, completed then closed and closed then completed, delegated,
stood in for, returned and reassigned, deadlines moved, changes to keys never opened, a pilot started twice, a task
opened before its pilot started, events without `occurred_at`, levels, years and subjects, a template Leda does not
know. Each log is projected batch by batch (batches of 7, so every kind of change crosses a batch boundary), then
rebuilt; every column of every row must be equal. Logs the SQL rebuild leaves to the projection (an event in an older
version, a field of the wrong type) are rebuilt batch by batch, with the same rows.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from eventstore import EventStore, NewEvent
from projections import InboxProjection
from projections.inbox import SQL_REBUILD
from tests.databases import runtime_pool_of_its_own

T0 = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
TEMPLATES = ["lfr-skola", "orebro-skolkommun", "demo", "retired-template"]
TASKS = [
    ("document_collection", None, None, None),
    ("self_assessment", "F", None, None),
    ("self_assessment", "R", None, None),
    ("measure_progress", None, 2, None),
    ("yearly_follow_up", None, 3, None),
    ("remediation", None, None, "SI-2026:1861#1/atgardsplan"),
    ("no_such_task", None, None, None),
]
PEOPLE = [f"p-{n}" for n in range(6)]


@pytest_asyncio.fixture
async def own_pool(postgres_server: tuple[str, dict[str, str]]) -> AsyncIterator[asyncpg.Pool]:
    """A log of the test's own: the rebuild must cover all of it in SQL, with nothing of other tests in it."""
    async with runtime_pool_of_its_own(postgres_server, "leda_rebuild") as pool:
        yield pool


def event(event_type: str, data: dict[str, Any], *, version: int = 1) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type=event_type, schema_version=version, data=data)


def random_log(rng: random.Random, stream: str) -> list[NewEvent]:
    """One pilot's stream: a start (or none yet, or two), then tasks opened and changed at random."""
    moment = T0 + timedelta(days=rng.randrange(300))

    def at() -> dict[str, str]:
        nonlocal moment
        moment += timedelta(hours=rng.randrange(1, 90))
        return {} if rng.random() < 0.1 else {"occurred_at": moment.isoformat()}

    def started() -> NewEvent:
        programme = rng.choice(["lfr-2026", "lfr-2027"])
        data = {"programme": programme, "kommunkod": stream[-4:], "template_key": rng.choice(TEMPLATES)}
        return event("PilotStarted", data | at() | {"municipality_name": "Testkommun", "participants": {}})

    events: list[NewEvent] = []
    if rng.random() < 0.9:
        events.append(started())
    keys: list[str] = []
    for _ in range(rng.randrange(5, 40)):
        roll = rng.random()
        if roll < 0.03:
            events.append(started())  # started again: later tasks take its programme and template
        elif roll < 0.35 or not keys:
            template_key, level, year, subject = rng.choice(TASKS)
            key = "@".join(str(part) for part in (template_key, level or year or subject) if part) + rng.choice(
                ["", "", "/p-2"]
            )
            keys.append(key)
            data: dict[str, Any] = {
                "task_key": key,
                "template_key": template_key,
                "phase": rng.choice(["djupanalys", "utvecklingsplan", "genomforande"]),
                "assignee_id": rng.choice(PEOPLE),
            }
            for name, value in (("level", level), ("year", year), ("subject", subject)):
                if value is not None:
                    data[name] = value
            if rng.random() < 0.7:
                data["due_at"] = (moment + timedelta(days=rng.randrange(1, 60))).isoformat()
            events.append(event("TaskOpened", data | at()))
        else:
            key = rng.choice(keys) if rng.random() < 0.95 else "never-opened"
            kind = rng.choice(["TaskCompleted", "TaskClosed", "TaskReassigned", "TaskDeadlineExtended"])
            data = {"task_key": key} | at()
            if kind == "TaskCompleted":
                data |= {"completed_by": rng.choice(PEOPLE), "payload": {"text": "svar"}}
            elif kind == "TaskReassigned":
                data |= {
                    "from_participant": rng.choice(PEOPLE),
                    "to_participant": rng.choice(PEOPLE),
                    "kind": rng.choice(["reassign", "delegate", "stand_in", "return"]),
                    "reason": "semester",
                }
            elif kind == "TaskDeadlineExtended":
                data |= {"due_at": (moment + timedelta(days=rng.randrange(1, 90))).isoformat(), "reason": "flyttat"}
            events.append(event(kind, data))
    return events


async def write_log(pool: asyncpg.Pool, seed: int, pilots: int = 40) -> list[str]:
    rng = random.Random(seed)
    store = EventStore(pool)
    streams = [f"leda-rebuild{seed}-{n}-{1800 + n}" for n in range(pilots)]
    logs = {stream: random_log(rng, stream) for stream in streams}
    written = dict.fromkeys(streams, 0)
    while any(written[s] < len(logs[s]) for s in streams):  # interleaved, a few events of one pilot at a time
        stream = rng.choice([s for s in streams if written[s] < len(logs[s])])
        chunk = logs[stream][written[stream] : written[stream] + rng.randrange(1, 4)]
        await store.append(stream, written[stream], chunk)
        written[stream] += len(chunk)
    return streams


async def every_row(pool: asyncpg.Pool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tasks = await pool.fetch("SELECT * FROM inbox_tasks ORDER BY stream_id, task_key")
    pilots = await pool.fetch("SELECT * FROM inbox_pilots ORDER BY stream_id")
    return [dict(row) for row in tasks], [dict(row) for row in pilots]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_a_rebuild_in_sql_gives_the_rows_the_projection_gives_batch_by_batch(
    own_pool: asyncpg.Pool, seed: int
) -> None:
    await write_log(own_pool, seed)
    projection = InboxProjection(own_pool, batch_size=7)
    await projection.catch_up()
    batch_by_batch = await every_row(own_pool)
    assert len(batch_by_batch[0]) > 100 and {row["status"] for row in batch_by_batch[0]} == {
        "open",
        "completed",
        "closed",
    }
    assert any(row["delegated_from"] for row in batch_by_batch[0])

    async with own_pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
        covered = await SQL_REBUILD.run(connection, 0)
        assert covered == 0  # nothing up to position 0
    applied = await projection.rebuild()

    assert applied == await own_pool.fetchval("SELECT count(*) FROM events")
    assert await projection.checkpoint() == await own_pool.fetchval("SELECT max(global_position) FROM events")
    rebuilt = await every_row(own_pool)
    assert rebuilt[1] == batch_by_batch[1]
    assert rebuilt[0] == batch_by_batch[0]


async def test_a_log_the_sql_rebuild_cannot_read_is_rebuilt_batch_by_batch_with_the_same_rows(
    own_pool: asyncpg.Pool,
) -> None:
    streams = await write_log(own_pool, 6, pilots=10)
    store = EventStore(own_pool)
    stream = streams[0]
    version = await store.stream_version(stream)
    # A year written as text and a deadline that is not a moment: the projection logs and skips the second.
    await store.append(
        stream,
        version,
        [
            event(
                "TaskOpened",
                {
                    "task_key": "x",
                    "template_key": "measure_progress",
                    "phase": "genomforande",
                    "assignee_id": "p-1",
                    "year": "2",
                },
            ),
            event("TaskDeadlineExtended", {"task_key": "x", "due_at": 17}),
        ],
    )
    projection = InboxProjection(own_pool, batch_size=7)
    await projection.catch_up()
    batch_by_batch = await every_row(own_pool)

    async with own_pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
        head = await connection.fetchval("SELECT max(global_position) FROM events")
        assert await SQL_REBUILD.run(connection, head) is None
    await projection.rebuild()

    assert await every_row(own_pool) == batch_by_batch
