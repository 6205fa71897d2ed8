"""The task inbox: every participant's tasks, soonest due first, projected from the event log into PostgreSQL.

The projection tails the log by global position (``EventStore.read_all``). Appends are serialised by one
lock, so positions commit in order and a checkpoint of "the last position applied" never skips an event
that commits late. Each batch of events is applied, and the checkpoint advanced, in one transaction: after
a crash the rows reflect exactly the events up to the stored checkpoint, and the next ``catch_up`` goes on
from there. Rows also remember the position that last changed them and ignore anything older, so applying
an event twice (a rebuild racing a catch-up, a bug) cannot move a row backwards.

The read model is disposable: ``rebuild`` empties it and replays the whole log. The projection only writes
rows, it never sends mail or starts work, so replaying is free of side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, Literal, get_args

import asyncpg
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.instances import instance_title
from eventstore import EventStore, StoredEvent
from programmes import template

__all__ = ["InboxProjection", "InboxTask", "TaskStatus"]

TaskStatus = Literal["open", "completed", "closed"]

# Transient failures that `run` waits out (a restarting database, a dropped connection); anything else is a
# bug and ends `run`, rather than being logged every poll interval forever.
_TRANSIENT_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
_MAX_RETRY_DELAY = 30.0

_log = structlog.get_logger(__name__)


class InboxTask(BaseModel):
    """One task instance as the inbox shows it: who has it now, what it is called, when it is due."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    task_key: str
    participant_id: str
    kommunkod: str
    programme: str
    phase: str
    template_key: str
    title_sv: str
    title_en: str
    status: TaskStatus
    opened_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    delegated_from: str | None
    updated_position: int


# --- what the inbox reads from stored events -------------------------------------------------------------
#
# Views of the stored data rather than `domain.events.event_from_record`: a read model depends only on the
# fields it reads, so a field added to an event for someone else's sake (and validated strictly by the
# domain) must not make the inbox drop the event. Only schema version 1 is read; a later version needs its
# fields looked at here before the inbox can trust them.

_READABLE_SCHEMA_VERSION = 1


class _EventView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    occurred_at: datetime | None = None


class _PilotStarted(_EventView):
    kommunkod: str
    programme: str
    template_key: str


class _TaskOpened(_EventView):
    task_key: str
    template_key: str
    phase: str
    assignee_id: str
    due_at: datetime | None = None
    level: str | None = None
    year: int | None = None
    subject: str | None = None


class _TaskCompleted(_EventView):
    task_key: str


class _TaskClosed(_EventView):
    task_key: str


class _TaskReassigned(_EventView):
    task_key: str
    from_participant: str
    to_participant: str
    kind: Literal["reassign", "delegate", "stand_in", "return"]


class _TaskDeadlineExtended(_EventView):
    task_key: str
    due_at: datetime


_VIEWS: dict[str, type[_EventView]] = {
    "PilotStarted": _PilotStarted,
    "TaskOpened": _TaskOpened,
    "TaskCompleted": _TaskCompleted,
    "TaskClosed": _TaskClosed,
    "TaskReassigned": _TaskReassigned,
    "TaskDeadlineExtended": _TaskDeadlineExtended,
}

# A delegate or stand-in acts for someone who keeps the task; a reassignment or a return makes it the new
# assignee's own again.
_ACTING_FOR_SOMEONE = {"delegate", "stand_in"}


def _task_titles(programme_template_key: str, opened: _TaskOpened) -> tuple[str, str]:
    """The Swedish and English titles of an opened task, qualified by its level, year and subject.

    A template this version of Leda cannot load (a retired or test template) must not stop the projection:
    the task's template key stands in for its title.
    """
    try:
        task = template(programme_template_key).task(opened.template_key)
        title_sv, title_en = task.title_sv, task.title_en
    except (ValueError, KeyError):  # TemplateError is a ValueError; an unknown task key a KeyError
        title_sv = title_en = opened.template_key
    try:
        return (
            instance_title(title_sv, level=opened.level, year=opened.year, subject=opened.subject),
            instance_title(title_en, level=opened.level, year=opened.year, subject=opened.subject, english=True),
        )
    except KeyError:  # a level instance_title does not know
        return title_sv, title_en


# --- SQL -------------------------------------------------------------------------------------------------

_ENSURE_CHECKPOINT = """
INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
ON CONFLICT (name) DO NOTHING
"""

_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = $1"

# Taken first in every transaction that writes the read model, so two projectors of the same name (or a
# rebuild and a catch-up) take turns instead of interleaving batches.
_LOCK_CHECKPOINT = "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE"

_ADVANCE_CHECKPOINT = "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1"

# TRUNCATE rather than DELETE: a rebuild leaves no dead rows to vacuum. Its exclusive lock lasts only as
# long as this short transaction.
_RESET = "TRUNCATE inbox_tasks, inbox_pilots"

_REMEMBER_PILOT = """
INSERT INTO inbox_pilots (stream_id, kommunkod, programme, template_key) VALUES ($1, $2, $3, $4)
ON CONFLICT (stream_id) DO UPDATE
   SET kommunkod = EXCLUDED.kommunkod, programme = EXCLUDED.programme, template_key = EXCLUDED.template_key
"""

_PILOT = "SELECT kommunkod, programme, template_key FROM inbox_pilots WHERE stream_id = $1"

# A task key opened again (a new round of the same task) is a fresh open task.
_OPEN_TASK = """
INSERT INTO inbox_tasks AS t (
    stream_id, task_key, participant_id, kommunkod, programme, phase, template_key, title_sv, title_en,
    status, opened_at, due_at, completed_at, delegated_from, updated_position
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, NULL, NULL, $12)
ON CONFLICT (stream_id, task_key) DO UPDATE
   SET participant_id = EXCLUDED.participant_id, kommunkod = EXCLUDED.kommunkod,
       programme = EXCLUDED.programme, phase = EXCLUDED.phase, template_key = EXCLUDED.template_key,
       title_sv = EXCLUDED.title_sv, title_en = EXCLUDED.title_en, status = 'open',
       opened_at = EXCLUDED.opened_at, due_at = EXCLUDED.due_at, completed_at = NULL, delegated_from = NULL,
       updated_position = EXCLUDED.updated_position
 WHERE t.updated_position < EXCLUDED.updated_position
"""

# Each change to an existing task: $1 stream_id, $2 task_key, $3 the event's position, then its values.
_COMPLETE_TASK = """
UPDATE inbox_tasks SET status = 'completed', completed_at = $4, updated_position = $3
 WHERE stream_id = $1 AND task_key = $2 AND updated_position < $3
"""

_CLOSE_TASK = """
UPDATE inbox_tasks SET status = 'closed', updated_position = $3
 WHERE stream_id = $1 AND task_key = $2 AND updated_position < $3
"""

_REASSIGN_TASK = """
UPDATE inbox_tasks SET participant_id = $4, delegated_from = $5, updated_position = $3
 WHERE stream_id = $1 AND task_key = $2 AND updated_position < $3
"""

_EXTEND_DEADLINE = """
UPDATE inbox_tasks SET due_at = $4, updated_position = $3
 WHERE stream_id = $1 AND task_key = $2 AND updated_position < $3
"""

_TASK_COLUMNS = """
stream_id, task_key, participant_id, kommunkod, programme, phase, template_key, title_sv, title_en, status,
opened_at, due_at, completed_at, delegated_from, updated_position
"""

_TASK = f"SELECT {_TASK_COLUMNS} FROM inbox_tasks WHERE stream_id = $1 AND task_key = $2"


class InboxProjection:
    """Keeps ``inbox_tasks`` in step with the event log; also answers the inbox's queries.

    ``name`` is the checkpoint's key in ``projection_checkpoints``. The tables belong to this projection
    alone: two projectors with different names would overwrite each other's rows.
    """

    def __init__(self, pool: asyncpg.Pool, *, name: str = "inbox", batch_size: int = 1000) -> None:
        if not name:
            raise ValueError("a projection needs a non-empty name for its checkpoint")
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, got {batch_size}")
        self._pool = pool
        self._store = EventStore(pool)
        self.name = name
        self.batch_size = batch_size

    # --- keeping up with the log --------------------------------------------------------------------------

    async def checkpoint(self) -> int:
        """The global position of the last event applied; 0 before the first."""
        position: int | None = await self._pool.fetchval(_CHECKPOINT, self.name)
        return position or 0

    async def catch_up(self) -> int:
        """Apply every event recorded since the checkpoint, batch by batch; return how many were applied."""
        await self._pool.execute(_ENSURE_CHECKPOINT, self.name)
        applied = 0
        while True:
            position = await self.checkpoint()
            events = await self._store.read_all(after_position=position, limit=self.batch_size)
            if not events:
                return applied
            if await self._apply_batch(position, events):
                applied += len(events)
                if len(events) < self.batch_size:
                    return applied  # that was the head of the log when it was read

    async def _apply_batch(self, read_after: int, events: list[StoredEvent]) -> bool:
        """Apply ``events`` and move the checkpoint past them, all or nothing; False if it moved meanwhile."""
        async with self._pool.acquire() as connection, connection.transaction():
            position = await connection.fetchval(_LOCK_CHECKPOINT, self.name)
            if position != read_after:
                # Another projector of this name, or a rebuild, moved the checkpoint after we read it:
                # these events were read from the wrong place, so read again from the new one.
                return False
            for event in events:
                await self.apply(connection, event)
            await connection.execute(_ADVANCE_CHECKPOINT, self.name, events[-1].global_position)
        return True

    async def rebuild(self) -> int:
        """Empty the read model, reset the checkpoint to 0 and replay the whole log; return the events applied.

        Until the replay finishes, readers see a partial inbox.
        """
        await self._pool.execute(_ENSURE_CHECKPOINT, self.name)
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.fetchval(_LOCK_CHECKPOINT, self.name)
            await connection.execute(_RESET)
            await connection.execute(_ADVANCE_CHECKPOINT, self.name, 0)
        _log.info("inbox projection reset for a rebuild", projection=self.name)
        return await self.catch_up()

    async def run(self, *, stop: asyncio.Event, poll_interval: float = 0.2) -> None:
        """Catch up, then poll for new events every ``poll_interval`` seconds until ``stop`` is set.

        A database that is down or restarting is waited out, retrying less often the longer it lasts, and
        the projection catches up when it is back. Any other error is a bug and ends the loop.
        """
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be more than 0, got {poll_interval}")
        delay = poll_interval
        while not stop.is_set():
            try:
                await self.catch_up()
                delay = poll_interval
            except _TRANSIENT_ERRORS as error:
                _log.warning(
                    "inbox projection could not catch up; retrying",
                    projection=self.name,
                    error=f"{type(error).__name__}: {error}",
                    retry_in_seconds=delay,
                )
                delay = min(delay * 2, _MAX_RETRY_DELAY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    # --- applying one event -------------------------------------------------------------------------------

    async def apply(self, connection: asyncpg.Connection, event: StoredEvent) -> None:
        """Apply one event on ``connection``, inside the batch's transaction; events the inbox ignores do nothing.

        An event the inbox handles but cannot read is logged and skipped rather than retried: the log never
        changes, so retrying would stall every inbox behind it for good.
        """
        view_type = _VIEWS.get(event.event_type)
        if view_type is None:
            return
        if event.schema_version != _READABLE_SCHEMA_VERSION:
            self._skip(event, f"schema version {event.schema_version} is not one the inbox reads")
            return
        try:
            view = view_type.model_validate(event.data)
        except ValidationError as error:
            # Field paths and messages only: the input may hold answers that do not belong in a log.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}"
                for e in error.errors(include_url=False, include_input=False)
            )
            self._skip(event, f"data does not fit {event.event_type}: {problems}")
            return

        stream, position = event.stream_id, event.global_position
        match view:
            case _PilotStarted():
                await connection.execute(_REMEMBER_PILOT, stream, view.kommunkod, view.programme, view.template_key)
            case _TaskOpened():
                pilot = await connection.fetchrow(_PILOT, stream)
                if pilot is None:
                    self._skip(event, "no PilotStarted before it in its stream")
                    return
                title_sv, title_en = _task_titles(pilot["template_key"], view)
                await connection.execute(
                    _OPEN_TASK,
                    stream,
                    view.task_key,
                    view.assignee_id,
                    pilot["kommunkod"],
                    pilot["programme"],
                    view.phase,
                    view.template_key,
                    title_sv,
                    title_en,
                    view.occurred_at or event.recorded_at,
                    view.due_at,
                    position,
                )
            case _TaskCompleted():
                await connection.execute(
                    _COMPLETE_TASK, stream, view.task_key, position, view.occurred_at or event.recorded_at
                )
            case _TaskClosed():
                await connection.execute(_CLOSE_TASK, stream, view.task_key, position)
            case _TaskReassigned():
                acting_for = view.from_participant if view.kind in _ACTING_FOR_SOMEONE else None
                await connection.execute(
                    _REASSIGN_TASK, stream, view.task_key, position, view.to_participant, acting_for
                )
            case _TaskDeadlineExtended():
                await connection.execute(_EXTEND_DEADLINE, stream, view.task_key, position, view.due_at)

    def _skip(self, event: StoredEvent, why: str) -> None:
        _log.warning(
            "inbox projection skipped an event it cannot apply",
            projection=self.name,
            global_position=event.global_position,
            stream_id=event.stream_id,
            event_type=event.event_type,
            event_id=str(event.event_id),
            why=why,
        )

    # --- queries ------------------------------------------------------------------------------------------

    async def inbox(
        self,
        participant_id: str,
        *,
        kommunkod: str | None = None,
        phase: str | None = None,
        status: TaskStatus | None = "open",
    ) -> list[InboxTask]:
        """The participant's tasks (``status=None``: whatever their status), soonest due first, undated last."""
        if status is not None and status not in get_args(TaskStatus):
            raise ValueError(f"status must be one of {get_args(TaskStatus)} or None, got {status!r}")
        # Only the filters given become SQL, so each combination gets a plan that can use its index.
        conditions = ["participant_id = $1"]
        arguments: list[Any] = [participant_id]
        for column, value in (("kommunkod", kommunkod), ("phase", phase), ("status", status)):
            if value is not None:
                arguments.append(str(value))
                conditions.append(f"{column} = ${len(arguments)}")
        query = (
            f"SELECT {_TASK_COLUMNS} FROM inbox_tasks WHERE {' AND '.join(conditions)}"
            " ORDER BY due_at NULLS LAST, opened_at, stream_id, task_key"
        )
        rows = await self._pool.fetch(query, *arguments)
        return [InboxTask.model_validate(dict(row)) for row in rows]

    async def task(self, stream_id: str, task_key: str) -> InboxTask | None:
        """One task of one pilot as the inbox has it, or None if the inbox has never seen it opened."""
        row = await self._pool.fetchrow(_TASK, stream_id, task_key)
        return None if row is None else InboxTask.model_validate(dict(row))

    async def handed_on_by(self, participant_id: str, stream_id: str) -> set[str]:
        """The keys of the pilot's tasks whose current holder acts for `participant_id` (delegated by them)."""
        rows = await self._pool.fetch(
            "SELECT task_key FROM inbox_tasks WHERE stream_id = $1 AND delegated_from = $2", stream_id, participant_id
        )
        return {row["task_key"] for row in rows}
