"""The task inbox read model, projected from the event log of the session database.

Other tests append to the same log, so every test writes pilots of its own (``leda-inboxtest-<uuid>-1861``)
with participants of its own, and asserts on those alone: the global log is never assumed to be ours.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.events import PilotStarted, TaskClosed, TaskCompleted, TaskOpened
from domain.instances import instance_title
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore, NewEvent
from programmes import template
from projections import InboxProjection
from tests.recorded_events import recorded

T0 = datetime(2025, 8, 18, 8, 0, tzinfo=UTC)


def pilot_stream(kommunkod: str = "1861") -> str:
    return f"leda-inboxtest-{uuid.uuid4()}-{kommunkod}"


def participant() -> str:
    return f"inboxtest-{uuid.uuid4().hex[:12]}"


def pilot_started(kommunkod: str = "1861", template_key: str = "lfr-skola") -> NewEvent:
    return recorded(
        PilotStarted(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            programme="lfr-2025",
            kommunkod=kommunkod,
            municipality_name="Testkommun",
            template_key=template_key,
            deciding_organ="Bildningsnämnden",
            participants={Role.PROGRAMLEDARE: ["inboxtest-lead"]},
        )
    )


def task_opened(
    task_key: str,
    assignee: str,
    *,
    template_key: str | None = None,
    phase: Phase = Phase.DEEP_ANALYSIS,
    due_at: datetime | None = None,
    opened_at: datetime = T0,
    level: str | None = None,
) -> NewEvent:
    return recorded(
        TaskOpened(
            event_id=uuid.uuid4(),
            occurred_at=opened_at,
            task_key=task_key,
            template_key=template_key or task_key.split("@", 1)[0],
            phase=phase,
            assignee_id=assignee,
            due_at=due_at,
            level=level,
        )
    )


def task_completed(task_key: str, by: str, at: datetime = T0 + timedelta(days=3)) -> NewEvent:
    return recorded(
        TaskCompleted(event_id=uuid.uuid4(), occurred_at=at, task_key=task_key, completed_by=by, payload={})
    )


def task_closed(task_key: str) -> NewEvent:
    return recorded(TaskClosed(event_id=uuid.uuid4(), occurred_at=T0, task_key=task_key, reason="no longer needed"))


def raw(event_type: str, **data: Any) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type=event_type, schema_version=1, data=data)


def steering(event_type: str, **data: Any) -> NewEvent:
    """A steering event as raw data: the inbox reads the stored fields, whatever the domain class holds."""
    return raw(event_type, occurred_at=T0.isoformat(), by="inboxtest-lead", **data)


def task_reassigned(task_key: str, from_participant: str, to_participant: str, kind: str) -> NewEvent:
    return steering(
        "TaskReassigned",
        task_key=task_key,
        from_participant=from_participant,
        to_participant=to_participant,
        kind=kind,
        reason="semester",
    )


def deadline_extended(task_key: str, due_at: datetime, previous_due_at: datetime | None) -> NewEvent:
    return steering(
        "TaskDeadlineExtended",
        task_key=task_key,
        due_at=due_at.isoformat(),
        previous_due_at=previous_due_at.isoformat() if previous_due_at else None,
        reason="nämnden sammanträder senare",
    )


@pytest.fixture
def store(db_pool: asyncpg.Pool) -> EventStore:
    return EventStore(db_pool)


@pytest.fixture
def projection(db_pool: asyncpg.Pool) -> InboxProjection:
    return InboxProjection(db_pool)


async def rows_of(pool: asyncpg.Pool, streams: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every column of the inbox's rows for ``streams``: tasks, then the remembered pilots."""
    tasks = await pool.fetch(
        "SELECT * FROM inbox_tasks WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, task_key", streams
    )
    pilots = await pool.fetch(
        "SELECT * FROM inbox_pilots WHERE stream_id = ANY($1::text[]) ORDER BY stream_id", streams
    )
    return [dict(row) for row in tasks], [dict(row) for row in pilots]


async def statuses(projection: InboxProjection, stream: str) -> dict[str, str]:
    """The status of each of tasks a, b and c that the inbox has."""
    tasks = [await projection.task(stream, key) for key in ("a", "b", "c")]
    return {task.task_key: task.status for task in tasks if task is not None}


# --- what the inbox shows --------------------------------------------------------------------------------


async def test_an_opened_task_appears_in_its_assignees_inbox_with_title_and_due_date(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, assignee = pilot_stream(), participant()
    due = T0 + timedelta(days=14)
    await store.append(
        stream,
        0,
        [pilot_started(), task_opened("self_assessment@F", assignee, due_at=due, level="F")],
    )

    await projection.catch_up()

    [task] = await projection.inbox(assignee)
    title = template("lfr-skola").task("self_assessment")
    assert (task.stream_id, task.task_key, task.participant_id) == (stream, "self_assessment@F", assignee)
    assert (task.kommunkod, task.programme, task.phase, task.template_key) == (
        "1861",
        "lfr-2025",
        "djupanalys",
        "self_assessment",
    )
    assert task.title_sv == f"{title.title_sv} (förvaltning)"
    assert task.title_en == f"{title.title_en} (administration)"
    assert (task.status, task.opened_at, task.due_at, task.completed_at) == ("open", T0, due, None)
    assert task.delegated_from is None


async def test_completing_a_task_removes_it_from_the_open_inbox(store: EventStore, projection: InboxProjection) -> None:
    stream, assignee = pilot_stream(), participant()
    done_at = T0 + timedelta(days=2)
    await store.append(
        stream,
        0,
        [
            pilot_started(),
            task_opened("kpi_data_pack", assignee),
            task_opened("document_collection", assignee),
            task_completed("kpi_data_pack", assignee, at=done_at),
        ],
    )

    await projection.catch_up()

    assert [t.task_key for t in await projection.inbox(assignee)] == ["document_collection"]
    [completed] = await projection.inbox(assignee, status="completed")
    assert (completed.task_key, completed.completed_at) == ("kpi_data_pack", done_at)


async def test_a_closed_task_leaves_the_open_inbox(store: EventStore, projection: InboxProjection) -> None:
    stream, assignee = pilot_stream(), participant()
    await store.append(
        stream, 0, [pilot_started(), task_opened("kpi_data_pack", assignee), task_closed("kpi_data_pack")]
    )

    await projection.catch_up()

    assert await projection.inbox(assignee) == []
    assert [t.status for t in await projection.inbox(assignee, status=None)] == ["closed"]


async def test_open_tasks_are_sorted_by_due_date_with_undated_tasks_last(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, assignee = pilot_stream(), participant()
    await store.append(
        stream,
        0,
        [
            pilot_started(),
            task_opened("undated_early", assignee, opened_at=T0),
            task_opened("due_late", assignee, due_at=T0 + timedelta(days=30)),
            task_opened("undated_late", assignee, opened_at=T0 + timedelta(hours=1)),
            task_opened("due_soon", assignee, due_at=T0 + timedelta(days=5)),
        ],
    )

    await projection.catch_up()

    assert [t.task_key for t in await projection.inbox(assignee)] == [
        "due_soon",
        "due_late",
        "undated_early",
        "undated_late",
    ]


async def test_the_inbox_filters_by_kommunkod_and_phase(store: EventStore, projection: InboxProjection) -> None:
    hallsberg, orebro, assignee = pilot_stream("1861"), pilot_stream("1880"), participant()
    await store.append(
        hallsberg,
        0,
        [
            pilot_started("1861"),
            task_opened("kpi_data_pack", assignee, phase=Phase.DEEP_ANALYSIS),
            task_opened("plan_draft", assignee, phase=Phase.DEVELOPMENT_PLAN),
        ],
    )
    await store.append(
        orebro, 0, [pilot_started("1880"), task_opened("kpi_data_pack", assignee, phase=Phase.DEEP_ANALYSIS)]
    )

    await projection.catch_up()

    def keys(tasks: list[Any]) -> set[tuple[str, str]]:
        return {(t.kommunkod, t.task_key) for t in tasks}

    assert keys(await projection.inbox(assignee, kommunkod="1861")) == {
        ("1861", "kpi_data_pack"),
        ("1861", "plan_draft"),
    }
    assert keys(await projection.inbox(assignee, phase=Phase.DEEP_ANALYSIS)) == {
        ("1861", "kpi_data_pack"),
        ("1880", "kpi_data_pack"),
    }
    assert keys(await projection.inbox(assignee, kommunkod="1880", phase="skolutvecklingsplan")) == set()
    assert keys(await projection.inbox(assignee, kommunkod="1861", phase="skolutvecklingsplan")) == {
        ("1861", "plan_draft")
    }


async def test_a_pilot_on_a_template_leda_cannot_load_gets_template_keys_as_titles(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, assignee = pilot_stream(), participant()
    await store.append(
        stream,
        0,
        [pilot_started(template_key="inboxtest-no-such-template"), task_opened("mystery@R", assignee, level="R")],
    )

    await projection.catch_up()

    [task] = await projection.inbox(assignee)
    assert (task.title_sv, task.title_en) == ("mystery (rektorer)", "mystery (principals)")
    assert task.title_sv == instance_title("mystery", level="R", year=None, subject=None)


# --- steering ----------------------------------------------------------------------------------------------


async def test_a_delegated_task_moves_to_the_delegate_and_comes_back_on_return(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, owner, delegate = pilot_stream(), participant(), participant()
    await store.append(
        stream,
        0,
        [
            pilot_started(),
            task_opened("kpi_data_pack", owner),
            task_reassigned("kpi_data_pack", owner, delegate, "delegate"),
        ],
    )
    await projection.catch_up()

    assert await projection.inbox(owner) == []
    [task] = await projection.inbox(delegate)
    assert (task.participant_id, task.delegated_from) == (delegate, owner)

    await store.append(stream, 3, [task_reassigned("kpi_data_pack", delegate, owner, "return")])
    await projection.catch_up()

    assert await projection.inbox(delegate) == []
    [task] = await projection.inbox(owner)
    assert (task.participant_id, task.delegated_from) == (owner, None)


@pytest.mark.parametrize(("kind", "acting_for_owner"), [("stand_in", True), ("reassign", False)])
async def test_a_stand_in_acts_for_the_owner_but_a_reassignment_takes_the_task_over(
    store: EventStore, projection: InboxProjection, kind: str, acting_for_owner: bool
) -> None:
    stream, owner, other = pilot_stream(), participant(), participant()
    await store.append(
        stream,
        0,
        [pilot_started(), task_opened("kpi_data_pack", owner), task_reassigned("kpi_data_pack", owner, other, kind)],
    )

    await projection.catch_up()

    [task] = await projection.inbox(other)
    assert task.delegated_from == (owner if acting_for_owner else None)


async def test_an_extended_deadline_moves_the_due_date_and_the_order(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, assignee = pilot_stream(), participant()
    first, second = T0 + timedelta(days=5), T0 + timedelta(days=10)
    extended = T0 + timedelta(days=20)
    await store.append(
        stream,
        0,
        [
            pilot_started(),
            task_opened("kpi_data_pack", assignee, due_at=first),
            task_opened("document_collection", assignee, due_at=second),
            deadline_extended("kpi_data_pack", extended, first),
        ],
    )

    await projection.catch_up()

    assert [(t.task_key, t.due_at) for t in await projection.inbox(assignee)] == [
        ("document_collection", second),
        ("kpi_data_pack", extended),
    ]


# --- keeping up with the log -------------------------------------------------------------------------------


async def test_a_restarted_projection_catches_up_on_everything_appended_while_it_was_down(
    db_pool: asyncpg.Pool, store: EventStore
) -> None:
    await InboxProjection(db_pool).catch_up()  # up to date, then "down"
    assignee = participant()
    streams = [pilot_stream() for _ in range(3)]
    last_position = 0
    for stream in streams:
        result = await store.append(
            stream, 0, [pilot_started(), *(task_opened(f"task_{n}", assignee) for n in range(4))]
        )
        last_position = result.global_positions[-1]

    restarted = InboxProjection(db_pool, batch_size=3)  # several batches, to cross batch boundaries
    applied = await restarted.catch_up()

    assert applied >= 3 * 5
    assert await restarted.checkpoint() >= last_position
    assert {(t.stream_id, t.task_key) for t in await restarted.inbox(assignee)} == {
        (stream, f"task_{n}") for stream in streams for n in range(4)
    }


async def test_run_keeps_the_inbox_up_to_date_until_stopped(store: EventStore, projection: InboxProjection) -> None:
    stop = asyncio.Event()
    runner = asyncio.create_task(projection.run(stop=stop, poll_interval=0.05))
    try:
        stream, assignee = pilot_stream(), participant()
        await store.append(stream, 0, [pilot_started(), task_opened("kpi_data_pack", assignee)])
        async with asyncio.timeout(10):
            while True:
                if await projection.task(stream, "kpi_data_pack") is not None:
                    break
                await asyncio.sleep(0.02)  # the projection polls the log; nothing to await but its rows
    finally:
        stop.set()
        await asyncio.wait_for(runner, timeout=5)


async def test_rebuilding_from_position_zero_reproduces_the_same_rows(
    db_pool: asyncpg.Pool, store: EventStore, projection: InboxProjection
) -> None:
    owner, delegate = participant(), participant()
    streams = [pilot_stream("1861"), pilot_stream("1880")]
    for stream in streams:
        await store.append(
            stream,
            0,
            [
                pilot_started(stream[-4:]),
                task_opened("self_assessment@F", owner, due_at=T0 + timedelta(days=9), level="F"),
                task_opened("kpi_data_pack", owner, due_at=T0 + timedelta(days=3)),
                task_opened("document_collection", owner),
                task_opened("plan_draft", owner, phase=Phase.DEVELOPMENT_PLAN),
                task_completed("kpi_data_pack", owner),
                task_closed("plan_draft"),
                task_reassigned("document_collection", owner, delegate, "delegate"),
                deadline_extended("self_assessment@F", T0 + timedelta(days=19), T0 + timedelta(days=9)),
            ],
        )
    await projection.catch_up()
    before = await rows_of(db_pool, streams)
    assert len(before[0]) == 8 and len(before[1]) == 2

    await projection.rebuild()

    assert await rows_of(db_pool, streams) == before


async def test_a_failing_batch_moves_neither_rows_nor_checkpoint_past_the_previous_batch(
    db_pool: asyncpg.Pool, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    projection = InboxProjection(db_pool, batch_size=2)
    await projection.catch_up()
    start = await projection.checkpoint()
    stream, assignee = pilot_stream(), participant()
    changes = [("a", "open"), ("b", "open"), ("c", "open"), ("a", "completed"), ("b", "closed")]
    result = await store.append(
        stream,
        0,
        [
            pilot_started(),
            task_opened("a", assignee),
            task_opened("b", assignee),
            task_opened("c", assignee),
            task_completed("a", assignee),
            task_closed("b"),
        ],
    )
    ours = result.global_positions

    # The batches the next catch-up will read: everything after the checkpoint, ours among it (one append
    # gets consecutive positions; anything appended later comes after ours and leaves these batches alone).
    pending = [event.global_position for event in await store.read_all(start, limit=1_000_000)]
    batches = [pending[i : i + 2] for i in range(0, len(pending), 2)]
    wholly_ours = [batch for batch in batches if len(batch) == 2 and set(batch) <= set(ours)]
    failing_batch = wholly_ours[-1]  # six consecutive positions hold at least two whole batches of two
    previous_batch = batches[batches.index(failing_batch) - 1]
    fails_at = failing_batch[1]

    write = projection._write

    async def write_failing_in_one_batch(connection: asyncpg.Connection, changes: Any) -> None:
        await write(connection, changes)  # the batch's rows are written, then its transaction fails
        if changes.last_position == fails_at:
            raise RuntimeError("the disk is full")

    monkeypatch.setattr(projection, "_write", write_failing_in_one_batch)
    with pytest.raises(RuntimeError, match="the disk is full"):
        await projection.catch_up()

    checkpoint = await projection.checkpoint()
    assert checkpoint == previous_batch[-1]
    expected = {
        task: status for position, (task, status) in zip(ours[1:], changes, strict=True) if position <= checkpoint
    }
    assert expected, "the previous batch held some of our events"
    assert await statuses(projection, stream) == expected  # so the failing batch's first event was rolled back

    monkeypatch.undo()
    await projection.catch_up()

    assert await projection.checkpoint() >= ours[-1]
    assert await statuses(projection, stream) == {"a": "completed", "b": "closed", "c": "open"}


async def test_an_event_the_inbox_cannot_read_is_skipped_without_stalling_the_rest(
    store: EventStore, projection: InboxProjection
) -> None:
    stream, orphan, assignee = pilot_stream(), pilot_stream(), participant()
    await store.append(
        stream,
        0,
        [
            pilot_started(),
            raw("TaskOpened", task_key="broken", phase="djupanalys"),  # no assignee, no template key
            task_opened("kpi_data_pack", assignee),
        ],
    )
    # A task in a stream that never started a pilot: no municipality or programme to file it under.
    result = await store.append(orphan, 0, [task_opened("document_collection", assignee)])

    await projection.catch_up()

    assert [t.task_key for t in await projection.inbox(assignee)] == ["kpi_data_pack"]
    assert await projection.task(stream, "broken") is None
    assert await projection.checkpoint() >= result.global_positions[-1]
