"""What a participant's calendar holds: the deadlines of their open tasks, and the meetings of the nämnd of the pilots
where they sit on it, serve it, report to it or lead the pilot. The edges render it (an iCalendar feed, `api.calendar`).

Each entry has a UID that stays the same while it is the same thing (a task of a pilot, a meeting on a day), so a
calendar client that subscribes updates an entry in place when a deadline moves, rather than adding another.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from access.sign_in import task_page
from directory import Participant
from domain.roles import Role
from eventstore import EventStore
from pilots.client import pilots_of_municipality
from pilots.records import PilotRecords
from projections.inbox import InboxProjection

MEETING_ROLES = frozenset({Role.POLITIKER, Role.NAMNDSEKRETERARE, Role.FORVALTNINGSCHEF, Role.PROGRAMLEDARE})
"""Whom the nämnd's meetings concern: its politicians, its secretary, the förvaltningschef who reports to it, and the
pilot's lead, who follows its decisions."""

DEADLINE_SLOT = timedelta(minutes=30)
"""A deadline shows as the half hour that ends at it, so a calendar shows it at the time it falls due."""


class CalendarEntry(BaseModel):
    """One entry: a task's deadline (a moment) or a meeting (a whole day)."""

    model_config = ConfigDict(frozen=True)

    uid: str
    summary: str
    description: str
    starts: datetime | date
    ends: datetime | date
    url: str | None = None
    sequence: int = 0
    """Grows each time the entry changes (the inbox's position of the task's last change)."""


def _uid(kind: str, *parts: str) -> str:
    return f"{kind}-{hashlib.sha256('/'.join(parts).encode()).hexdigest()[:32]}@leda"


async def calendar_of(
    participant: Participant,
    *,
    inbox: InboxProjection,
    records: PilotRecords,
    store: EventStore,
    web_base_url: str,
    today: date | None = None,
) -> list[CalendarEntry]:
    """The participant's entries: their open tasks with a deadline, and the coming nämnd meetings that concern them."""
    today = today or datetime.now(UTC).date()
    await inbox.catch_up()
    entries = [
        CalendarEntry(
            uid=_uid("task", task.stream_id, task.task_key),
            summary=f"Sista dag / due: {task.title_sv} ({task.kommunkod})",
            description=f"{task.title_sv}\n{task.title_en}\n{web_base_url}{task_page(task.stream_id, task.task_key)}",
            starts=task.due_at - DEADLINE_SLOT,
            ends=task.due_at,
            url=f"{web_base_url}{task_page(task.stream_id, task.task_key)}",
            sequence=task.updated_position,
        )
        for task in await inbox.inbox(participant.participant_id, status="open")
        if task.due_at is not None
    ]
    for workflow_id in await _pilots_of(participant, records, store):
        state = await records.state(workflow_id)
        if state.ended or state.calendar is None:
            continue
        if not any(participant.participant_id in state.participants.get(role, []) for role in MEETING_ROLES):
            continue
        organ = state.deciding_organ
        for day in state.calendar.meetings_of(organ).meeting_dates:
            if day >= today:
                entries.append(
                    CalendarEntry(
                        uid=_uid("meeting", workflow_id, organ, day.isoformat()),
                        summary=f"{organ} sammanträder / meets ({state.municipality_name})",
                        description=f"{organ}, {state.municipality_name}: sammanträde / meeting",
                        starts=day,
                        ends=day + timedelta(days=1),
                        url=f"{web_base_url}/pilots/{workflow_id}",
                    )
                )
    return entries


async def _pilots_of(participant: Participant, records: PilotRecords, store: EventStore) -> list[str]:
    """The pilots whose roster may name the participant: their municipality's, or their programme's."""
    if participant.programme is not None:
        return await records.of_programme(participant.programme)
    if participant.kommunkod is not None:
        return await pilots_of_municipality(store, participant.kommunkod)
    return []
