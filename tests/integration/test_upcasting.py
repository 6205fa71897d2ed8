"""An event whose shape changed is still read as it was stored: TaskEscalated's version 1 (the lead in
`recipient_id`, the managers in `also_to`) folds, shows in the timeline, passes the inbox and verifies, through the one
registry of upcasters; and the inbox reads an older version of an event it views through the same registry."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from domain import events
from domain.events import PilotStarted, TaskEscalated, TaskOpened, event_from_record, event_record
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore, NewEvent, verify_chains
from pilots import PilotRecords
from pilots.timeline import timeline
from projections import InboxProjection
from projections import inbox as inbox_module
from tests.databases import runtime_pool_of_its_own
from tests.recorded_events import recorded

T0 = datetime(2025, 8, 18, 8, 0, tzinfo=UTC)


def started(assignee: str) -> list[NewEvent]:
    return [
        recorded(
            PilotStarted(
                event_id=uuid.uuid4(),
                occurred_at=T0,
                programme="upcast",
                kommunkod="1861",
                municipality_name="Hallsberg",
                template_key="lfr-skola",
                deciding_organ="Bildningsnämnden",
                participants={Role.PROGRAMLEDARE: ["p-lead"], Role.FORVALTNINGSCHEF: [assignee]},
            )
        ),
        recorded(
            TaskOpened(
                event_id=uuid.uuid4(),
                occurred_at=T0,
                task_key="document_collection",
                template_key="document_collection",
                phase=Phase.DEEP_ANALYSIS,
                assignee_id=assignee,
                due_at=T0 + timedelta(days=21),
            )
        ),
    ]


def escalated_in_version_1() -> NewEvent:
    """A TaskEscalated as Leda wrote it until December 2026."""
    data = {
        "occurred_at": (T0 + timedelta(days=28)).isoformat(),
        "task_key": "document_collection",
        "recipient_id": "p-lead",
        "overdue_since": (T0 + timedelta(days=21)).isoformat(),
        "also_to": ["p-kd"],
    }
    return NewEvent(event_id=uuid.uuid4(), event_type="TaskEscalated", schema_version=1, data=data)


def test_version_1_reads_as_version_2_with_the_same_people() -> None:
    stored = escalated_in_version_1()

    event = event_from_record(stored.event_type, stored.event_id, stored.schema_version, stored.data)

    assert isinstance(event, TaskEscalated) and event.schema_version == 2
    assert [(r.participant_id, r.escalated_as) for r in event.recipients] == [("p-lead", "lead"), ("p-kd", "manager")]
    assert event_record(event)[1] == 2  # written again, it would be written in the current version


@pytest_asyncio.fixture
async def own_pool(postgres_server: tuple[str, dict[str, str]]) -> AsyncIterator[asyncpg.Pool]:
    """A database of these tests' own: the streams they write are not for the others' boards and listings."""
    async with runtime_pool_of_its_own(postgres_server, "leda_upcast") as pool:
        yield pool


async def test_a_stream_with_a_version_1_escalation_folds_shows_projects_and_verifies(own_pool: asyncpg.Pool) -> None:
    db_pool = own_pool
    store = EventStore(db_pool)
    stream, assignee = f"leda-upcast-{uuid.uuid4().hex[:8]}-1861", f"p-{uuid.uuid4().hex[:8]}"
    await store.append(stream, 0, [*started(assignee), escalated_in_version_1()])

    state = await PilotRecords(db_pool).state(stream)
    assert state.tasks["document_collection"].escalated
    assert state.tasks["document_collection"].escalated_to == ["p-lead", "p-kd"]

    [*_, entry] = await timeline(store, stream)
    assert entry.summary == ("eskalerad till programledaren: document_collection → p-lead, och till chefen p-kd")

    projection = InboxProjection(db_pool)
    await projection.catch_up()
    [task] = await projection.inbox(assignee)
    assert (task.stream_id, task.task_key, task.status) == (stream, "document_collection", "open")

    assert (await verify_chains(db_pool, stream_id=stream)).first_break is None
    assert [e.schema_version for e in await store.read_stream(stream)] == [1, 1, 1]  # nothing stored was rewritten


async def test_the_inbox_reads_an_older_version_of_an_event_it_views_through_the_upcasters(
    own_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were TaskOpened's `assignee_id` once called `holder_id` (version 1 of an imagined version 2), the inbox would
    file the task under its holder all the same: it reads the whole of an older version and upcasts it."""
    monkeypatch.setitem(events.CURRENT_VERSIONS, "TaskOpened", 2)
    monkeypatch.setitem(
        events.UPCASTERS,
        ("TaskOpened", 1),
        lambda data: {key if key != "holder_id" else "assignee_id": value for key, value in data.items()},
    )
    viewed = json.loads(inbox_module._VIEWED_VERSIONS) | {"TaskOpened": 2}
    monkeypatch.setattr(inbox_module, "_VIEWED_VERSIONS", json.dumps(viewed))
    db_pool = own_pool
    store = EventStore(db_pool)
    stream, holder = f"leda-upcast-{uuid.uuid4().hex[:8]}-1861", f"p-{uuid.uuid4().hex[:8]}"
    pilot, opened = started(holder)
    old_shape = {("holder_id" if key == "assignee_id" else key): value for key, value in opened.data.items()}
    await store.append(stream, 0, [pilot, opened.model_copy(update={"schema_version": 1, "data": old_shape})])

    projection = InboxProjection(db_pool)
    await projection.catch_up()

    assert [t.task_key for t in await projection.inbox(holder)] == ["document_collection"]
