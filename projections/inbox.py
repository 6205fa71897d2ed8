"""The task inbox: every participant's tasks, soonest due first, projected from the event log into PostgreSQL.

The projection tails the log by global position. Appends are serialised by one lock, so positions commit in
order and a checkpoint of "the last position applied" never skips an event that commits late. Each batch of
events is applied, and the checkpoint advanced, in one transaction: after a crash the rows reflect exactly the
events up to the stored checkpoint, and the next ``catch_up`` goes on from there. Rows also remember the position
that last changed them and ignore anything older, so applying an event twice (a rebuild racing a catch-up, a bug)
cannot move a row backwards.

A batch is read with only the fields the inbox looks at (a task's answer never leaves the database), folded in
memory into one change per pilot and per task, and written with three set-based statements: a rebuild reads a
million events in seconds rather than making a round trip per event (BENCHMARKS.md).

The read model is disposable: ``rebuild`` empties it and replays the whole log. The projection only writes
rows, it never sends mail or starts work, so replaying is free of side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

import asyncpg
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import to_json

from domain.events import CURRENT_VERSIONS, upcast
from domain.instances import instance_title
from programmes import template
from projections.inbox_rebuild import SqlRebuild

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
# Views of the stored data rather than whole domain events: a read model depends only on the fields it reads, so a
# field added to an event for someone else's sake (and validated strictly by the domain) must not make the inbox
# drop the event. An event stored in an older version than the one written today is read as the domain reads it,
# through `domain.events.upcast`; the views read the current versions' fields.


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
_ACTING_FOR_SOMEONE = frozenset({"delegate", "stand_in"})


def _task_titles(programme_template_key: str, opened: _TaskOpened) -> tuple[str, str]:
    """The Swedish and English titles of an opened task, qualified by its level, year and subject."""
    return _titles(programme_template_key, opened.template_key, opened.level, opened.year, opened.subject)


@functools.lru_cache(maxsize=4096)  # a rebuild meets the same few hundred titles a million times
def _titles(
    programme_template_key: str, task_key: str, level: str | None, year: int | None, subject: str | None
) -> tuple[str, str]:
    """A template this version of Leda cannot load (a retired or test template) must not stop the projection:
    the task's template key stands in for its title."""
    try:
        task = template(programme_template_key).task(task_key)
        title_sv, title_en = task.title_sv, task.title_en
    except (ValueError, KeyError):  # TemplateError is a ValueError; an unknown task key a KeyError
        title_sv = title_en = task_key
    try:
        return (
            instance_title(title_sv, level=level, year=year, subject=subject),
            instance_title(title_en, level=level, year=year, subject=subject, english=True),
        )
    except KeyError:  # a level instance_title does not know
        return title_sv, title_en


# --- a batch, folded -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LoggedEvent:
    """An event as the projection reads it: where it is, and only the fields its view needs (`_READ`)."""

    global_position: int
    stream_id: str
    event_id: UUID
    event_type: str
    schema_version: int
    recorded_at: datetime
    fields: str | None


@dataclass(frozen=True, slots=True)
class _Batch:
    """Events read after a position: every one's place (`rows`, in order), and the inbox's view of those it has
    one for."""

    rows: list[asyncpg.Record]
    views: list[tuple[_LoggedEvent, _EventView]]

    @property
    def last_position(self) -> int:
        position: int = self.rows[-1]["global_position"]
        return position


@dataclass
class _TaskChange:
    """One task's row as a batch leaves it: whole if the batch opened it, else the columns the batch changed."""

    first_position: int
    last_position: int
    opened: bool
    values: dict[str, Any]


@dataclass
class _BatchChanges:
    last_position: int
    pilots: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    tasks: dict[tuple[str, str], _TaskChange] = field(default_factory=dict)

    def change(self, key: tuple[str, str], position: int, **values: Any) -> None:
        """Later changes of a column win, as they would applied one by one."""
        task = self.tasks.setdefault(key, _TaskChange(position, position, opened=False, values={}))
        task.values.update(values)
        task.last_position = position


def _json(rows: list[dict[str, Any]]) -> str:
    """A batch's rows as one JSON text; pydantic's encoder writes the datetimes (ISO 8601) about ten times as fast
    as the standard library's with a fallback for them."""
    return to_json(rows).decode()


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

_VIEWED_TYPES = list(_VIEWS)
_VIEWED_FIELDS = sorted({name for view in _VIEWS.values() for name in view.model_fields})

# Every event's place and type; the fields the views read only for the types the inbox handles. Fields that are
# JSON null are left out, as a missing field (the views give both the same meaning).
_VIEWED_DATA = "jsonb_build_object(" + ", ".join(f"'{name}', data -> '{name}'" for name in _VIEWED_FIELDS) + ")"
_VIEWED_VERSIONS_BY_TYPE = {event_type: CURRENT_VERSIONS[event_type] for event_type in _VIEWS}
_VIEWED_VERSIONS = json.dumps(_VIEWED_VERSIONS_BY_TYPE)
# Only the viewed fields of an event in its current version; the whole of one stored in an older version, which
# the upcasters need.
_READ = f"""
SELECT global_position, stream_id,
       CASE WHEN event_type = ANY($3::text[]) THEN event_id END AS event_id, event_type, schema_version,
       CASE WHEN event_type = ANY($3::text[]) THEN recorded_at END AS recorded_at,
       CASE WHEN event_type = ANY($3::text[]) THEN
            CASE WHEN schema_version = ($4::jsonb ->> event_type)::int THEN jsonb_strip_nulls({_VIEWED_DATA})::text
                 ELSE data::text END
       END AS fields
  FROM events
 WHERE global_position > $1
 ORDER BY global_position
 LIMIT $2
"""

_HEAD = "SELECT coalesce(max(global_position), 0) FROM events"

SQL_REBUILD = SqlRebuild(_VIEWS, _VIEWED_VERSIONS_BY_TYPE, _ACTING_FOR_SOMEONE, _titles)
"""The rebuild in SQL, reading what this projection's views read."""

_PILOTS = "SELECT stream_id, kommunkod, programme, template_key FROM inbox_pilots WHERE stream_id = ANY($1::text[])"
_PILOT_IDS = "SELECT stream_id FROM inbox_pilots ORDER BY kommunkod, stream_id"

# Each batch's rows travel as one JSON text: encoding a thousand rows as typed arrays took asyncpg longer than
# PostgreSQL took to write them.
_REMEMBER_PILOTS = """
INSERT INTO inbox_pilots (stream_id, kommunkod, programme, template_key)
SELECT * FROM jsonb_to_recordset($1::text::jsonb)
              AS r(stream_id text, kommunkod text, programme text, template_key text)
ON CONFLICT (stream_id) DO UPDATE
   SET kommunkod = EXCLUDED.kommunkod, programme = EXCLUDED.programme, template_key = EXCLUDED.template_key
"""

# Tasks the batch opened, as the batch leaves them (opened, and perhaps completed or reassigned since). A task
# key opened again (a new round of the same task) is a fresh task.
_OPEN_TASKS = """
INSERT INTO inbox_tasks AS t (
    stream_id, task_key, participant_id, kommunkod, programme, phase, template_key, title_sv, title_en,
    status, opened_at, due_at, completed_at, delegated_from, updated_position
)
SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS r(
    stream_id text, task_key text, participant_id text, kommunkod text, programme text, phase text, template_key text,
    title_sv text, title_en text, status text, opened_at timestamptz, due_at timestamptz, completed_at timestamptz,
    delegated_from text, updated_position bigint
)
ON CONFLICT (stream_id, task_key) DO UPDATE
   SET participant_id = EXCLUDED.participant_id, kommunkod = EXCLUDED.kommunkod,
       programme = EXCLUDED.programme, phase = EXCLUDED.phase, template_key = EXCLUDED.template_key,
       title_sv = EXCLUDED.title_sv, title_en = EXCLUDED.title_en, status = EXCLUDED.status,
       opened_at = EXCLUDED.opened_at, due_at = EXCLUDED.due_at, completed_at = EXCLUDED.completed_at,
       delegated_from = EXCLUDED.delegated_from, updated_position = EXCLUDED.updated_position
 WHERE t.updated_position < EXCLUDED.updated_position
"""

# Tasks opened before the batch: only the columns the batch changed (the flags say which may become NULL),
# unless the row has already seen the batch's first change of it.
_CHANGE_TASKS = """
UPDATE inbox_tasks AS t
   SET status = coalesce(c.status, t.status),
       completed_at = CASE WHEN c.sets_completed_at THEN c.completed_at ELSE t.completed_at END,
       participant_id = coalesce(c.participant_id, t.participant_id),
       delegated_from = CASE WHEN c.sets_delegated_from THEN c.delegated_from ELSE t.delegated_from END,
       due_at = CASE WHEN c.sets_due_at THEN c.due_at ELSE t.due_at END,
       updated_position = c.updated_position
  FROM jsonb_to_recordset($1::text::jsonb) AS c(
           stream_id text, task_key text, first_position bigint, updated_position bigint, status text,
           sets_completed_at boolean, completed_at timestamptz, participant_id text, sets_delegated_from boolean,
           delegated_from text, sets_due_at boolean, due_at timestamptz
       )
 WHERE t.stream_id = c.stream_id AND t.task_key = c.task_key AND t.updated_position < c.first_position
"""

_PLAN_EACH_TIME = "SET LOCAL plan_cache_mode = force_custom_plan"

_TASK_COLUMNS = """
stream_id, task_key, participant_id, kommunkod, programme, phase, template_key, title_sv, title_en, status,
opened_at, due_at, completed_at, delegated_from, updated_position
"""

_TASK = f"SELECT {_TASK_COLUMNS} FROM inbox_tasks WHERE stream_id = $1 AND task_key = $2"


async def _discard(read: asyncio.Task[_Batch] | None) -> None:
    """Cancel a read ahead that is no longer wanted, and let go of whatever it ended with."""
    if read is None:
        return
    read.cancel()
    with contextlib.suppress(asyncio.CancelledError, *_TRANSIENT_ERRORS):
        await read


class InboxProjection:
    """Keeps ``inbox_tasks`` in step with the event log; also answers the inbox's queries.

    ``name`` is the checkpoint's key in ``projection_checkpoints``. The tables belong to this projection
    alone: two projectors with different names would overwrite each other's rows. Batches of 5,000 events: per
    event, a batch of 1,000 cost half as much again in round trips and statements (BENCHMARKS.md); live, a batch is
    whatever is new, mostly a handful of events.
    """

    def __init__(self, pool: asyncpg.Pool, *, name: str = "inbox", batch_size: int = 5000) -> None:
        if not name:
            raise ValueError("a projection needs a non-empty name for its checkpoint")
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, got {batch_size}")
        self._pool = pool
        self.name = name
        self.batch_size = batch_size

    # --- keeping up with the log --------------------------------------------------------------------------

    async def checkpoint(self) -> int:
        """The global position of the last event applied; 0 before the first."""
        position: int | None = await self._pool.fetchval(_CHECKPOINT, self.name)
        return position or 0

    async def catch_up(self) -> int:
        """Apply every event recorded since the checkpoint, batch by batch; return how many were applied.

        While one batch is applied, the next is read on another connection: the log only grows at its end, so
        what follows a position is the same whether it is read before or after the batch is written.
        """
        await self._pool.execute(_ENSURE_CHECKPOINT, self.name)
        applied = 0
        position = await self.checkpoint()
        batch = await self._read(position)
        while batch.rows:
            full = len(batch.rows) == self.batch_size  # else that was the head of the log when it was read
            following = asyncio.create_task(self._read(batch.last_position)) if full else None
            try:
                moved = not await self._apply_batch(position, batch)
            except BaseException:
                await _discard(following)
                raise
            if moved:  # another projector of this name moved the checkpoint: read on from where it is now
                await _discard(following)
                position = await self.checkpoint()
                batch = await self._read(position)
                continue
            applied += len(batch.rows)
            if following is None:
                return applied
            position, batch = batch.last_position, await following
        return applied

    async def _read(self, after: int) -> _Batch:
        """The next batch after `after`, with its events' views: read ahead, their parsing (the larger part of a
        batch's Python) runs while the batch before it is written."""
        rows = await self._pool.fetch(_READ, after, self.batch_size, _VIEWED_TYPES, _VIEWED_VERSIONS)
        # Only the events of the types the inbox views become objects (their fields are NULL otherwise).
        events = [_LoggedEvent(*row) for row in rows if row["fields"] is not None]
        return _Batch(rows, [(event, view) for event in events if (view := self._view(event)) is not None])

    async def _apply_batch(self, read_after: int, batch: _Batch) -> bool:
        """Apply ``batch`` and move the checkpoint past it, all or nothing; False if it moved meanwhile."""
        async with self._pool.acquire() as connection, connection.transaction():
            position = await connection.fetchval(_LOCK_CHECKPOINT, self.name)
            if position != read_after:
                # Another projector of this name, or a rebuild, moved the checkpoint after we read it:
                # these events were read from the wrong place, so read again from the new one.
                return False
            await self._write(connection, await self._fold(connection, batch))
            await connection.execute(_ADVANCE_CHECKPOINT, self.name, batch.last_position)
        return True

    async def rebuild(self) -> int:
        """Empty the read model and replay the whole log; return the events applied.

        The log up to its head is rebuilt in PostgreSQL in one transaction (`projections.inbox_rebuild`), which
        readers see all at once; what was appended meanwhile is then caught up as usual. A log with an event the
        rebuild in SQL leaves to the projection (an older schema version, a field it cannot read) is replayed batch
        by batch from 0 instead, and until that finishes readers see a partial inbox.
        """
        await self._pool.execute(_ENSURE_CHECKPOINT, self.name)
        # One snapshot for the head and both passes over the log: with every append serialised, nothing can commit
        # at or below the head the snapshot sees.
        async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
            await connection.fetchval(_LOCK_CHECKPOINT, self.name)
            await connection.execute(_RESET)
            head = await connection.fetchval(_HEAD)
            rebuilt = await SQL_REBUILD.run(connection, head)
            await connection.execute(_ADVANCE_CHECKPOINT, self.name, head if rebuilt is not None else 0)
        if rebuilt is None:
            _log.info("inbox projection reset for a rebuild batch by batch", projection=self.name)
        else:
            _log.info("inbox projection rebuilt in SQL", projection=self.name, events=rebuilt, head=head)
        return (rebuilt or 0) + await self.catch_up()

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

    # --- applying a batch ----------------------------------------------------------------------------------

    async def _fold(self, connection: asyncpg.Connection, batch: _Batch) -> _BatchChanges:
        """What the batch does to the read model, in event order, as one change per pilot and per task.

        The batch's views were made when it was read (`_view`): an event the inbox handles but cannot read was
        logged and skipped there rather than retried, as the log never changes, so retrying would stall every
        inbox behind it for good.
        """
        views = batch.views
        opened_in = sorted({e.stream_id for e, view in views if isinstance(view, _TaskOpened)})
        pilots = (
            {
                row["stream_id"]: (row["kommunkod"], row["programme"], row["template_key"])
                for row in await connection.fetch(_PILOTS, opened_in)
            }
            if opened_in
            else {}
        )
        changes = _BatchChanges(last_position=batch.last_position)
        for event, view in views:
            stream, position = event.stream_id, event.global_position
            key = (stream, getattr(view, "task_key", ""))
            match view:
                case _PilotStarted():
                    pilots[stream] = changes.pilots[stream] = (view.kommunkod, view.programme, view.template_key)
                case _TaskOpened():
                    if stream not in pilots:
                        self._skip(event, "no PilotStarted before it in its stream")
                        continue
                    kommunkod, programme, template_key = pilots[stream]
                    title_sv, title_en = _task_titles(template_key, view)
                    # The whole row: an earlier change of the same key in this batch is overwritten by it.
                    changes.tasks[key] = _TaskChange(
                        first_position=position,
                        last_position=position,
                        opened=True,
                        values={
                            "participant_id": view.assignee_id,
                            "kommunkod": kommunkod,
                            "programme": programme,
                            "phase": view.phase,
                            "template_key": view.template_key,
                            "title_sv": title_sv,
                            "title_en": title_en,
                            "status": "open",
                            "opened_at": view.occurred_at or event.recorded_at,
                            "due_at": view.due_at,
                            "completed_at": None,
                            "delegated_from": None,
                        },
                    )
                case _TaskCompleted():
                    changes.change(
                        key, position, status="completed", completed_at=view.occurred_at or event.recorded_at
                    )
                case _TaskClosed():
                    changes.change(key, position, status="closed")
                case _TaskReassigned():
                    acting_for = view.from_participant if view.kind in _ACTING_FOR_SOMEONE else None
                    changes.change(key, position, participant_id=view.to_participant, delegated_from=acting_for)
                case _TaskDeadlineExtended():
                    changes.change(key, position, due_at=view.due_at)
        return changes

    def _view(self, event: _LoggedEvent) -> _EventView | None:
        """The event as the inbox reads it; None for events it ignores or cannot read."""
        view_type = _VIEWS.get(event.event_type)
        if view_type is None:
            return None
        current = CURRENT_VERSIONS[event.event_type]
        if event.schema_version > current:
            self._skip(event, f"schema version {event.schema_version} is later than {current}, the one Leda writes")
            return None
        try:
            if event.schema_version < current:
                _, data = upcast(event.event_type, event.schema_version, json.loads(event.fields or "{}"))
                return view_type.model_validate(data)
            return view_type.model_validate_json(event.fields or "{}")
        except (KeyError, TypeError) as error:  # an old version's data its upcaster cannot read
            self._skip(event, f"version {event.schema_version} cannot be upcast: {type(error).__name__}")
            return None
        except ValidationError as error:
            # Field paths and messages only: the input may hold answers that do not belong in a log.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}"
                for e in error.errors(include_url=False, include_input=False)
            )
            self._skip(event, f"data does not fit {event.event_type}: {problems}")
            return None

    async def _write(self, connection: asyncpg.Connection, changes: _BatchChanges) -> None:
        """Write a batch's changes: its pilots, the tasks it opened, the changes to tasks opened before it."""
        if changes.pilots:
            pilots = [
                {"stream_id": stream, "kommunkod": kommunkod, "programme": programme, "template_key": template_key}
                for stream, (kommunkod, programme, template_key) in changes.pilots.items()
            ]
            await connection.execute(_REMEMBER_PILOTS, _json(pilots))
        opened = [
            {"stream_id": stream, "task_key": task_key, **c.values, "updated_position": c.last_position}
            for (stream, task_key), c in changes.tasks.items()
            if c.opened
        ]
        if opened:
            await connection.execute(_OPEN_TASKS, _json(opened))
        changed = [
            {
                "stream_id": stream,
                "task_key": task_key,
                "first_position": c.first_position,
                "updated_position": c.last_position,
                **c.values,
                "sets_completed_at": "completed_at" in c.values,
                "sets_delegated_from": "delegated_from" in c.values,
                "sets_due_at": "due_at" in c.values,
            }
            for (stream, task_key), c in changes.tasks.items()
            if not c.opened
        ]
        if changed:
            # Planned for each batch: a plan kept from when the table was small (the first batches after a reset)
            # scans all of it for every task, and stays until the next ANALYZE.
            await connection.execute(_PLAN_EACH_TIME)
            await connection.execute(_CHANGE_TASKS, _json(changed))

    def _skip(self, event: _LoggedEvent, why: str) -> None:
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

    async def pilots(self) -> list[str]:
        """Every pilot the inbox knows (it saw the pilot start), by municipality code, then id."""
        rows = await self._pool.fetch(_PILOT_IDS)
        return [row["stream_id"] for row in rows]

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
