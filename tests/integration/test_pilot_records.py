"""A pilot's status read from the record: kept while nothing new is recorded, made anew once something is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from domain.events import PilotStarted, TaskOpened
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore, NewEvent
from pilots import PilotRecords
from tests.recorded_events import recorded

T0 = datetime(2026, 8, 17, 8, 0, tzinfo=UTC)


def _opened(task_key: str, assignee: str) -> NewEvent:
    return recorded(
        TaskOpened(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            task_key=task_key,
            template_key=task_key,
            phase=Phase.DEEP_ANALYSIS,
            assignee_id=assignee,
            due_at=T0 + timedelta(days=21),
        )
    )


async def test_a_status_is_kept_until_the_pilot_records_something_new(db_pool: asyncpg.Pool) -> None:
    store, records = EventStore(db_pool), PilotRecords(db_pool)
    stream, lead = f"leda-records-{uuid.uuid4().hex[:8]}-1861", f"p-{uuid.uuid4().hex[:8]}"
    started = PilotStarted(
        event_id=uuid.uuid4(),
        occurred_at=T0,
        programme="records",
        kommunkod="1861",
        municipality_name="Hallsberg",
        template_key="lfr-skola",
        deciding_organ="Bildningsnämnden",
        participants={Role.PROGRAMLEDARE: [lead], Role.FORVALTNINGSCHEF: [lead]},
    )
    await store.append(stream, 0, [recorded(started), _opened("document_collection", lead)])

    first = await records.status(stream)
    assert await records.status(stream) is first  # nothing new: the same status, not built again

    await store.append(stream, 2, [_opened("strengths_weaknesses", lead)])
    second = await records.status(stream)
    assert second is not first and second.stream_version == 3
    assert {t.key for t in second.tasks} == {"document_collection", "strengths_weaknesses"}
    assert [t.key for t in first.tasks] == ["document_collection"]  # what was handed out before is unchanged
