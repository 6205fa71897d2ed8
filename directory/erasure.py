"""Erasing a participant's personal data on request (GDPR art. 17), leaving the audit record whole.

Leda keeps a person's name and e-mail address in one place, their ``participants`` row; events, workflow
state, read models and mail logs carry only the participant id. So erasure deletes that row, and everything
else stays: the id left behind is a pseudonym that leads to no one, and the event log, whose hash chains
must keep verifying, is never touched. One transaction:

* revokes the person's API tokens (rows kept, as 0007 promises: they say who could act when), their mailed
  sign-in links and their web sessions (0014);
* settles their queued digest items as undeliverable (there is no one left to mail);
* appends a ``ParticipantErased`` event (id, by, reason; no name) to the ``directory`` stream;
* deletes the participants row and records the id in ``participant_erasures`` (0011), so mail still addressed to
  it is skipped, an import cannot bring the data back under the same id, and a second erasure says so. Both go
  through ``leda_erase_participant`` (0018): the application's database role may do neither directly, so nobody
  holding its credentials can remove a person without the event that records it.

Someone who still holds open tasks is not erased: their tasks would be orphaned, with reminders going
nowhere. The refusal names the pilots and tasks, so the programme lead can reassign them first.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from domain.events import ParticipantErased, event_record
from eventstore import EventStore, NewEvent, WrongExpectedVersion
from projections import InboxProjection

__all__ = [
    "DIRECTORY_STREAM",
    "AlreadyErased",
    "Erasure",
    "ErasureRefused",
    "OpenTask",
    "ParticipantHoldsOpenTasks",
    "RosterPlace",
    "UnknownParticipant",
    "erase_participant",
    "erased_at",
]

DIRECTORY_STREAM = "directory"
"""The event stream of the participant directory (not a pilot's: pilot streams are ``leda-…``)."""

# Events after which a pilot runs no more and assigns nobody anything.
_PILOT_ENDED = ("PilotCompleted", "PilotWithdrawn", "PilotTerminated")

_LOCK_PARTICIPANT = "SELECT display_name, email FROM participants WHERE participant_id = $1 FOR UPDATE"

_ERASED_AT = "SELECT erased_at FROM participant_erasures WHERE participant_id = $1"

# Tasks they hold, and tasks they handed to a delegate or stand-in, which come back to them on return.
_OPEN_TASKS = """
SELECT stream_id, task_key, participant_id, delegated_from
  FROM inbox_tasks
 WHERE status = 'open' AND (participant_id = $1 OR delegated_from = $1)
 ORDER BY stream_id, task_key
"""

_REVOKE_TOKENS = "UPDATE api_tokens SET revoked_at = now() WHERE participant_id = $1 AND revoked_at IS NULL"
_REVOKE_SIGN_IN_LINKS = "UPDATE sign_in_links SET revoked_at = now() WHERE participant_id = $1 AND revoked_at IS NULL"
_END_WEB_SESSIONS = "UPDATE web_sessions SET ended_at = now() WHERE participant_id = $1 AND ended_at IS NULL"

_SETTLE_DIGEST_ITEMS = """
UPDATE digest_items SET outcome = 'undeliverable', settled_at = now()
 WHERE participant_id = $1 AND outcome IS NULL
"""

_DIRECTORY_VERSION = "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1"

# Deletes the row and registers the erasure, given the event appended before it (0018).
_ERASE = "SELECT leda_erase_participant($1, $2, $3)"

# Pilots still running whose roster (PilotStarted.participants, role -> ids) names the person: tasks of that
# role that open later still go to the id. Rare and small (one row per pilot), so a scan is fine.
# Each role of a running pilot the id holds: named in the pilot's start, or joined since (RosterChanged), and not
# left after; the latest mention of the id in a role decides.
_ROSTER_PLACES = """
WITH mentions AS (
    SELECT started.stream_id, roster.role, started.stream_version, true AS holds
      FROM events AS started
     CROSS JOIN LATERAL jsonb_each(
               CASE WHEN jsonb_typeof(started.data -> 'participants') = 'object' THEN started.data -> 'participants' END
           ) AS roster(role, ids)
     WHERE started.stream_version = 1 AND started.event_type = 'PilotStarted'
       AND jsonb_typeof(roster.ids) = 'array' AND roster.ids ? $1
    UNION ALL
    SELECT changed.stream_id, changed.data ->> 'role', changed.stream_version, changed.data ->> 'joining' = $1
      FROM events AS changed
     WHERE changed.event_type = 'RosterChanged' AND $1 IN (changed.data ->> 'joining', changed.data ->> 'leaving')
), latest AS (
    SELECT DISTINCT ON (stream_id, role) stream_id, role, holds
      FROM mentions ORDER BY stream_id, role, stream_version DESC
)
SELECT stream_id, role FROM latest
 WHERE holds AND NOT EXISTS (
       SELECT 1 FROM events AS ended WHERE ended.stream_id = latest.stream_id AND ended.event_type = ANY($2::text[])
   )
 ORDER BY stream_id, role
"""

_ATTEMPTS = 5


class ErasureRefused(Exception):
    """The participant was not erased; the message says why and what to do."""


class UnknownParticipant(ErasureRefused):
    def __init__(self, participant_id: str) -> None:
        super().__init__(f"no participant {participant_id!r} in the directory, and none was erased under that id")
        self.participant_id = participant_id


class AlreadyErased(ErasureRefused):
    def __init__(self, participant_id: str, when: datetime) -> None:
        super().__init__(f"participant {participant_id!r} was already erased on {when:%Y-%m-%d %H:%M} UTC")
        self.participant_id = participant_id
        self.erased_at = when


@dataclass(frozen=True)
class OpenTask:
    """An open task that would be orphaned: held by the person, or delegated by them to ``holder``."""

    stream_id: str
    task_key: str
    holder: str
    delegated_from: str | None

    def __str__(self) -> str:
        if self.delegated_from is not None and self.holder != self.delegated_from:
            return f"{self.stream_id} {self.task_key} (held by {self.holder} for them)"
        return f"{self.stream_id} {self.task_key}"


class ParticipantHoldsOpenTasks(ErasureRefused):
    def __init__(self, participant_id: str, tasks: list[OpenTask]) -> None:
        listed = ", ".join(str(task) for task in tasks)
        super().__init__(
            f"participant {participant_id!r} still has {len(tasks)} open task(s): {listed}. "
            "Reassign them first (leda reassign KOMMUNKOD TASK --to ID --reason …), then erase"
        )
        self.participant_id = participant_id
        self.tasks = tasks


@dataclass(frozen=True)
class RosterPlace:
    """A running pilot whose roster names the person in ``role``."""

    stream_id: str
    role: str


@dataclass(frozen=True)
class Erasure:
    """What an erasure did."""

    participant_id: str
    event_id: uuid.UUID
    stream_version: int
    global_position: int
    erased_at: datetime
    tokens_revoked: int
    digest_items_settled: int
    roster_places: list[RosterPlace]
    """Running pilots that still name the id for a role: take them off it with a roster change (`leda roster`)."""


async def erased_at(pool: asyncpg.Pool | asyncpg.Connection, participant_id: str) -> datetime | None:
    """When the participant's data was erased; None if it never was."""
    when: datetime | None = await pool.fetchval(_ERASED_AT, participant_id)
    return when


async def erase_participant(pool: asyncpg.Pool, participant_id: str, *, by: str, reason: str) -> Erasure:
    """Erase the participant's personal data and record the erasure as an event, all in one transaction.

    ``reason`` and ``by`` go into the permanent record, so they are refused if they contain the person's name
    or address. Raises ``UnknownParticipant``, ``AlreadyErased`` or ``ParticipantHoldsOpenTasks``.
    """
    by, reason = by.strip(), reason.strip()
    if not reason:
        raise ValueError("reason: say why (e.g. the case number of the request); it is kept on the record")
    if not by:
        raise ValueError("by: say who erases; it is kept on the record")
    # The open-task check reads the inbox, so bring it up to the log first (a worker may not be running).
    await InboxProjection(pool).catch_up()
    store = EventStore(pool)
    for _ in range(_ATTEMPTS):
        try:
            async with pool.acquire() as connection, connection.transaction():
                return await _erase(connection, store, participant_id, by=by, reason=reason)
        except WrongExpectedVersion:
            continue  # another erasure was recorded in the directory stream meanwhile: go again
    raise ErasureRefused("the directory's event stream kept changing; nothing was erased, try again")


async def _erase(
    connection: asyncpg.Connection, store: EventStore, participant_id: str, *, by: str, reason: str
) -> Erasure:
    # Locking the row makes a second, concurrent erasure of the same person wait, then find it gone.
    person = await connection.fetchrow(_LOCK_PARTICIPANT, participant_id)
    if person is None:
        when = await erased_at(connection, participant_id)
        if when is not None:
            raise AlreadyErased(participant_id, when)
        raise UnknownParticipant(participant_id)
    for field, text in (("reason", reason), ("by", by)):
        if _names_the_person(text, person["display_name"], person["email"]):
            raise ErasureRefused(
                f"{field} contains the person's name or e-mail address, and would keep it in the permanent "
                "record; give a case number or a role instead"
            )

    open_tasks = [
        OpenTask(row["stream_id"], row["task_key"], row["participant_id"], row["delegated_from"])
        for row in await connection.fetch(_OPEN_TASKS, participant_id)
    ]
    if open_tasks:
        raise ParticipantHoldsOpenTasks(participant_id, open_tasks)

    tokens = await connection.execute(_REVOKE_TOKENS, participant_id)
    await connection.execute(_REVOKE_SIGN_IN_LINKS, participant_id)
    await connection.execute(_END_WEB_SESSIONS, participant_id)
    items = await connection.execute(_SETTLE_DIGEST_ITEMS, participant_id)
    roster = [
        RosterPlace(row["stream_id"], row["role"])
        for row in await connection.fetch(_ROSTER_PLACES, participant_id, list(_PILOT_ENDED))
    ]

    now = datetime.now(UTC)
    event = ParticipantErased(
        event_id=uuid.uuid4(), occurred_at=now, participant_id=participant_id, reason=reason, by=by
    )
    event_type, schema_version, data = event_record(event)
    # Last but one, because appending takes the store-wide append lock until this transaction commits; the erasure
    # itself needs the event in the log.
    version = await connection.fetchval(_DIRECTORY_VERSION, DIRECTORY_STREAM)
    appended = await store.append(
        DIRECTORY_STREAM,
        version,
        [
            NewEvent(
                event_id=event.event_id,
                event_type=event_type,
                schema_version=schema_version,
                data=data,
                metadata={"actor": by},
            )
        ],
        connection=connection,
    )
    await connection.execute(_ERASE, participant_id, event.event_id, now)
    return Erasure(
        participant_id=participant_id,
        event_id=event.event_id,
        stream_version=appended.last_version,
        global_position=appended.global_positions[0],
        erased_at=now,
        tokens_revoked=_count(tokens),
        digest_items_settled=_count(items),
        roster_places=roster,
    )


def _names_the_person(text: str, display_name: str, email: str) -> bool:
    """Whether ``text`` contains the e-mail address, the whole name, or any part of the name as a word."""
    folded = text.casefold()
    if email.casefold() in folded or display_name.casefold() in folded:
        return True
    parts = [part for part in re.split(r"[\s,.;:()\-]+", display_name) if len(part) >= 3]
    return any(re.search(rf"(?<!\w){re.escape(part.casefold())}(?!\w)", folded) for part in parts)


def _count(status: str) -> int:
    """The row count of an UPDATE's status line, e.g. 'UPDATE 2'."""
    return int(status.rsplit(" ", 1)[-1])
