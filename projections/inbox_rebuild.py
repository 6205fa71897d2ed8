"""Rebuilding the inbox from position 0 in PostgreSQL itself: the same rows the batch-by-batch projection writes,
from two passes over the log instead of a round trip per batch and a Python fold per event.

What `InboxProjection` does event by event is, for the whole log at once:

- a pilot's row is its stream's last PilotStarted;
- a task's row starts from the last TaskOpened of its key that has a PilotStarted before it in its stream (a task
  opened again is a fresh task), with that PilotStarted's municipality, programme and template;
- of the events of that key after it, the last TaskCompleted or TaskClosed gives the status, the last TaskCompleted
  the completion time, the last TaskReassigned the holder (and whom a delegate or stand-in acts for), the last
  TaskDeadlineExtended the due date; the last of them all is the position that last changed the row.

The first pass reads what the titles need (the templates, and each opened task's template key, level, year and
subject: a few hundred combinations, titled in Python as the projection titles them). The second pass writes every
pilot and task in one statement, unless it finds an event the projection would not read as it stands: one in an
older schema version (the upcasters are Python), or one whose fields are missing or of another JSON type than the
projection's view of it declares (the projection logs and skips it); a value PostgreSQL cannot cast ends the pass
too. The rebuild is then left to the projection, which knows what to do with each. Both passes run in the rebuild's
transaction, which must see one snapshot of the log (REPEATABLE READ).
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Union, get_args, get_origin

import asyncpg
from pydantic import BaseModel
from pydantic.fields import FieldInfo

SORT_MEMORY = "256MB"
_JSON_TYPES: dict[object, str] = {str: "string", datetime: "string", int: "number"}
"""The JSON type a view's field is stored as, by its Python type."""


def _field_check(name: str, info: FieldInfo) -> str:
    """SQL: true when `data` holds the field as the view reads it (a field that may be None may also be missing)."""
    annotation = info.annotation
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
    if optional:
        [annotation] = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Literal:
        if optional:
            raise TypeError(f"{name}: an optional choice is not checked in SQL yet")
        return f"data ->> '{name}' IN ({', '.join(repr(value) for value in get_args(annotation))})"
    kind = _JSON_TYPES[annotation]  # a field of another type must be taught here first
    if optional or not info.is_required():
        return f"coalesce(jsonb_typeof(data -> '{name}'), 'null') IN ('{kind}', 'null')"
    return f"jsonb_typeof(data -> '{name}') = '{kind}'"


def _readable(views: Mapping[str, type[BaseModel]]) -> str:
    """SQL: true when an event of a viewed type has every field its view needs, of the JSON type it needs."""
    cases = [
        f"WHEN '{event_type}' THEN "
        + " AND ".join(_field_check(name, info) for name, info in view.model_fields.items())
        for event_type, view in views.items()
    ]
    return f"CASE event_type {' '.join(cases)} ELSE false END"


# Pass 1: how many events there are up to the head, and what the titles need (only the PilotStarted and TaskOpened
# events' data is read).
_SURVEY = """
SELECT count(*) AS events,
       coalesce(array_agg(DISTINCT data ->> 'template_key') FILTER (WHERE event_type = 'PilotStarted'), '{}')
           AS pilot_templates,
       coalesce(array_agg(DISTINCT jsonb_build_array(data ->> 'template_key', data ->> 'level',
                                                     data ->> 'year', data ->> 'subject')::text)
                    FILTER (WHERE event_type = 'TaskOpened'), '{}') AS opened_kinds
  FROM events
 WHERE global_position <= $1
"""

# Pass 2: every pilot and every task, as the projection leaves them, unless an event needs the projection's own
# reading (then nothing is written, and the statement says how many). Windows over the log's order rather than
# joins: each event learns the PilotStarted it follows and its key's last valid opening, and one grouping per key
# then reads the opening's columns and the last of each kind of change after it.
_WRITE = """
WITH viewed AS MATERIALIZED (
    SELECT global_position AS position, stream_id, event_type,
           schema_version = ($5::jsonb ->> event_type)::int AND {readable} AS readable,
           data ->> 'task_key' AS task_key, data ->> 'template_key' AS template_key,
           data ->> 'kommunkod' AS kommunkod, data ->> 'programme' AS programme, data ->> 'phase' AS phase,
           data ->> 'assignee_id' AS assignee_id, (data ->> 'due_at')::timestamptz AS due_at,
           data ->> 'level' AS level, (data ->> 'year')::int AS year, data ->> 'subject' AS subject,
           coalesce((data ->> 'occurred_at')::timestamptz, recorded_at) AS occurred_at,
           data ->> 'from_participant' AS from_participant, data ->> 'to_participant' AS to_participant,
           data ->> 'kind' AS kind
      FROM events
     WHERE global_position <= $1 AND event_type = ANY($2::text[])
),
piloted AS (
    -- The stream's latest PilotStarted so far: a running maximum of [position, …], ordered by its position first
    -- (written with leading zeros, so the text sorts as the number).
    SELECT v.*, max(ARRAY[lpad(position::text, 20, '0'), kommunkod, programme, template_key])
                    FILTER (WHERE event_type = 'PilotStarted')
                    OVER (PARTITION BY stream_id ORDER BY position) AS pilot
      FROM viewed AS v
),
keyed AS (
    SELECT p.*, max(position) FILTER (WHERE event_type = 'TaskOpened' AND pilot IS NOT NULL)
                    OVER (PARTITION BY stream_id, task_key) AS opened_at_position
      FROM piloted AS p
     WHERE event_type <> 'PilotStarted'
),
tasks AS (
    SELECT stream_id, task_key,
           max(position) AS last_position,
           max(assignee_id) FILTER (WHERE position = opened_at_position) AS assignee_id,
           max(pilot[2]) FILTER (WHERE position = opened_at_position) AS kommunkod,
           max(pilot[3]) FILTER (WHERE position = opened_at_position) AS programme,
           max(pilot[4]) FILTER (WHERE position = opened_at_position) AS pilot_template,
           max(phase) FILTER (WHERE position = opened_at_position) AS phase,
           max(template_key) FILTER (WHERE position = opened_at_position) AS template_key,
           max(level) FILTER (WHERE position = opened_at_position) AS level,
           max(year) FILTER (WHERE position = opened_at_position) AS year,
           max(subject) FILTER (WHERE position = opened_at_position) AS subject,
           max(occurred_at) FILTER (WHERE position = opened_at_position) AS opened_at,
           max(due_at) FILTER (WHERE position = opened_at_position) AS due_at,
           (array_agg(event_type ORDER BY position DESC)
                FILTER (WHERE event_type IN ('TaskCompleted', 'TaskClosed')))[1] AS status_event,
           (array_agg(occurred_at ORDER BY position DESC) FILTER (WHERE event_type = 'TaskCompleted'))[1]
               AS completed_at,
           (array_agg(to_participant ORDER BY position DESC) FILTER (WHERE event_type = 'TaskReassigned'))[1]
               AS holder,
           (array_agg(CASE WHEN kind = ANY($3::text[]) THEN from_participant END ORDER BY position DESC)
                FILTER (WHERE event_type = 'TaskReassigned')) AS acting_for,
           (array_agg(due_at ORDER BY position DESC) FILTER (WHERE event_type = 'TaskDeadlineExtended'))[1]
               AS extended_to
      FROM keyed
     WHERE position >= opened_at_position
     GROUP BY stream_id, task_key
),
titles AS (
    SELECT jsonb_build_array(pilot_template, template_key, level, year, subject)::text AS kind, title_sv, title_en
      FROM jsonb_to_recordset($4::text::jsonb) AS t(
               pilot_template text, template_key text, level text, year int, subject text, title_sv text, title_en text
           )
),
unreadable AS (
    SELECT count(*) AS events FROM viewed WHERE NOT readable
),
pilots AS (
    INSERT INTO inbox_pilots (stream_id, kommunkod, programme, template_key)
    SELECT DISTINCT ON (stream_id) stream_id, kommunkod, programme, template_key
      FROM viewed
     WHERE event_type = 'PilotStarted' AND (SELECT events FROM unreadable) = 0
     ORDER BY stream_id, position DESC
),
written AS (
INSERT INTO inbox_tasks (
    stream_id, task_key, participant_id, kommunkod, programme, phase, template_key, title_sv, title_en,
    status, opened_at, due_at, completed_at, delegated_from, updated_position
)
SELECT k.stream_id, k.task_key, coalesce(k.holder, k.assignee_id), k.kommunkod, k.programme, k.phase, k.template_key,
       t.title_sv, t.title_en,
       CASE k.status_event WHEN 'TaskCompleted' THEN 'completed' WHEN 'TaskClosed' THEN 'closed' ELSE 'open' END,
       k.opened_at, coalesce(k.extended_to, k.due_at), k.completed_at, k.acting_for[1], k.last_position
  FROM tasks AS k
  -- A task without its title would break the NOT NULL of title_sv: the rebuild is then left to the projection.
  LEFT JOIN titles AS t
    ON t.kind = jsonb_build_array(k.pilot_template, k.template_key, k.level, k.year, k.subject)::text
 WHERE (SELECT events FROM unreadable) = 0
)
SELECT events FROM unreadable
"""

Titles = Callable[[str, str, str | None, int | None, str | None], tuple[str, str]]


@dataclass(frozen=True)
class SqlRebuild:
    """The rebuild in SQL of a projection whose `views` say which event types it reads and which fields of each,
    of which JSON type; `versions` the schema version of each that it reads without upcasting; a reassignment of a
    kind in `acting_for_someone` leaves the task's owner as the one acted for; `titles` titles a task as the
    projection does."""

    views: Mapping[str, type[BaseModel]]
    versions: Mapping[str, int]
    acting_for_someone: frozenset[str]
    titles: Titles
    _write: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_write", _WRITE.format(readable=_readable(self.views)))

    async def run(self, connection: asyncpg.Connection, head: int) -> int | None:
        """Write the rows for the log up to position `head` into the emptied tables; the number of events that
        covers, or None (nothing written) when some event needs the projection's own reading."""
        survey = await connection.fetchrow(_SURVEY, head)
        kinds = [json.loads(kind) for kind in survey["opened_kinds"]]
        if any(year is not None and not year.isdigit() for _, _, year, _ in kinds):
            return None  # a year the projection reads as a number and SQL would not
        rows = []
        for pilot_template in survey["pilot_templates"]:
            for template_key, level, year, subject in kinds:
                number = None if year is None else int(year)
                title_sv, title_en = self.titles(pilot_template, template_key, level, number, subject)
                rows.append(
                    {
                        "pilot_template": pilot_template,
                        "template_key": template_key,
                        "level": level,
                        "year": number,
                        "subject": subject,
                        "title_sv": title_sv,
                        "title_en": title_en,
                    }
                )
        try:
            async with connection.transaction():  # a savepoint: a value PostgreSQL cannot read leaves nothing behind
                # The windows sort the log's viewed events three times; in memory, not in files, for this transaction.
                await connection.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
                unreadable = await connection.fetchval(
                    self._write,
                    head,
                    list(self.views),
                    sorted(self.acting_for_someone),
                    json.dumps(rows),
                    json.dumps(dict(self.versions)),
                )
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError):
            return None
        if unreadable:
            return None
        events: int = survey["events"]
        return events
