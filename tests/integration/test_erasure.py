"""Erasing a participant (GDPR art. 17): no trace of their name or address in any table, chains intact.

Each test erases a person of its own (``erasetest-<uuid>``) from the session database, so the synthetic
directory that other tests use is never touched.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from access import identify, issue_token
from activities.contracts import NotificationRequest
from activities.notifications import Notifications
from adapters.mail import SmtpMailer, SmtpSettings
from devstack.mail import MailCapture
from directory import (
    DIRECTORY_STREAM,
    AlreadyErased,
    ErasedParticipantsError,
    ErasureRefused,
    Participant,
    ParticipantHoldsOpenTasks,
    UnknownParticipant,
    erase_participant,
    get_participant,
    upsert_participants,
)
from domain.events import PilotCompleted, PilotStarted, RosterChanged, TaskCompleted, TaskOpened
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore, verify_chains
from projections import InboxProjection
from tests.recorded_events import recorded

T0 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
SENDER = "Leda <leda@example.invalid>"


async def new_person(pool: asyncpg.Pool, *, mail_delivery: str = "immediate") -> Participant:
    """A synthetic person whose name and address appear nowhere else, so a scan for them finds only them."""
    marker = uuid.uuid4().hex[:8]
    person = Participant(
        participant_id=f"erasetest-{marker}",
        kommunkod="9991",  # not a pilot's: other tests start pilots from 1861's directory
        role="rektor",
        display_name=f"Ebba Raderqvist{marker}",
        email=f"ebba.raderqvist{marker}@example.invalid",
        mail_delivery=mail_delivery,  # type: ignore[arg-type]
    )
    await upsert_participants(pool, [person])
    return person


def roster_change(role: Role, *, joining: str | None = None, leaving: str | None = None) -> RosterChanged:
    return RosterChanged(
        event_id=uuid.uuid4(),
        occurred_at=T0,
        role=role,
        joining=joining,
        leaving=leaving,
        reason="ny tjänst",
        by="erasetest-lead",
    )


async def start_pilot(store: EventStore, person: Participant, *, task_key: str = "self_assessment@R") -> str:
    """A pilot whose roster names the person as rektor, with one task opened for them."""
    stream = f"leda-erasetest-{uuid.uuid4().hex[:8]}-1861"
    await store.append(
        stream,
        0,
        [
            recorded(
                PilotStarted(
                    event_id=uuid.uuid4(),
                    occurred_at=T0,
                    programme="erasetest",
                    kommunkod="1861",
                    municipality_name="Hallsberg",
                    template_key="lfr-skola",
                    deciding_organ="Bildningsnämnden",
                    participants={Role.PROGRAMLEDARE: ["erasetest-lead"], Role.REKTOR: [person.participant_id]},
                )
            ),
            recorded(
                TaskOpened(
                    event_id=uuid.uuid4(),
                    occurred_at=T0,
                    task_key=task_key,
                    template_key="self_assessment",
                    phase=Phase.DEEP_ANALYSIS,
                    assignee_id=person.participant_id,
                    due_at=T0 + timedelta(days=14),
                    level="R",
                )
            ),
        ],
    )
    return stream


async def complete(store: EventStore, stream: str, task_key: str, by: str) -> None:
    event = TaskCompleted(event_id=uuid.uuid4(), occurred_at=T0, task_key=task_key, completed_by=by, payload={})
    await store.append(stream, await store.stream_version(stream), [recorded(event)])


def notification(person: Participant, stream: str) -> NotificationRequest:
    return NotificationRequest(
        notification_id=uuid.uuid4(),
        kind="assignment",
        recipient_id=person.participant_id,
        workflow_id=stream,
        kommunkod="1861",
        municipality_name="Hallsberg",
        task_key="self_assessment@R",
        task_title_sv="Självskattning (rektorer)",
        task_title_en="Self-assessment (principals)",
        due_at=T0 + timedelta(days=14),
    )


def notifications(pool: asyncpg.Pool, mail: MailCapture) -> Notifications:
    mailer = SmtpMailer(SmtpSettings(host=mail.host, port=mail.port, sender=SENDER))
    return Notifications(pool, mailer, sender=SENDER, web_base_url="http://leda.test")


async def tables_mentioning(pool: asyncpg.Pool, text: str) -> list[str]:
    """Every table, in every schema that is not PostgreSQL's own, with a row whose text contains ``text``.

    A row cast to text holds every column (JSON documents included), so no column can be overlooked.
    """
    tables = await pool.fetch(
        """
        SELECT format('%I.%I', table_schema, table_name) AS name
          FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1
        """
    )
    assert len(tables) >= 10  # events, directory, registers, read models, mail logs, checkpoints, ...
    found = []
    for table in tables:
        query = f"SELECT count(*) FROM {table['name']} AS t WHERE strpos(lower(t::text), lower($1)) > 0"
        if await pool.fetchval(query, text):
            found.append(table["name"])
    return found


async def test_erasure_leaves_no_trace_of_the_person_in_any_table_and_the_chains_still_verify(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    store = EventStore(db_pool)
    person = await new_person(db_pool)
    stream = await start_pilot(store, person)
    token = await issue_token(db_pool, person.participant_id, "participant")
    # Mail logs: a mail sent, then (after switching to the daily digest) a notification queued, and a digest sent.
    mail = notifications(db_pool, mail_capture)
    sent = await ActivityEnvironment().run(mail.send_notification, notification(person, stream))
    await upsert_participants(db_pool, [person.model_copy(update={"mail_delivery": "daily_digest"})])
    queued = await ActivityEnvironment().run(mail.send_notification, notification(person, stream))
    digest_id = uuid.uuid4()
    await db_pool.execute(
        "INSERT INTO digests_sent (digest_id, participant_id, message_id, item_count) VALUES ($1, $2, $3, 1)",
        digest_id,
        person.participant_id,
        f"<{digest_id}@leda.invalid>",
    )
    await complete(store, stream, "self_assessment@R", person.participant_id)
    await InboxProjection(db_pool).catch_up()
    assert sent.message_id is not None and queued.queued_for_digest
    # The scan finds them before: it would find them after, had anything kept them.
    assert "public.participants" in await tables_mentioning(db_pool, person.display_name)
    assert "public.participants" in await tables_mentioning(db_pool, person.email)

    erasure = await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-17")

    for trace in (person.display_name, person.email, person.display_name.split()[-1], person.email.split("@")[0]):
        assert await tables_mentioning(db_pool, trace) == [], trace
    assert await get_participant(db_pool, person.participant_id) is None
    assert await identify(db_pool, token) is None
    assert (erasure.tokens_revoked, erasure.digest_items_settled) == (1, 1)
    assert (
        await db_pool.fetchval("SELECT outcome FROM digest_items WHERE participant_id = $1", person.participant_id)
        == "undeliverable"
    )
    # The events stay as they were (ids only), and the erasure is itself on the record.
    assert [e.event_type for e in await store.read_stream(stream)] == ["PilotStarted", "TaskOpened", "TaskCompleted"]
    recorded_erasure = next(e for e in await store.read_stream(DIRECTORY_STREAM) if e.event_id == erasure.event_id)
    assert recorded_erasure.event_type == "ParticipantErased"
    assert recorded_erasure.data["participant_id"] == person.participant_id
    assert (recorded_erasure.data["by"], recorded_erasure.data["reason"]) == ("operations", "ärende 2026-17")
    assert recorded_erasure.metadata == {"actor": "operations"}
    assert recorded_erasure.global_position == erasure.global_position
    report = await verify_chains(db_pool)
    assert report.intact, report.first_break
    # Readers of the whole log step over the directory's event.
    await InboxProjection(db_pool).catch_up()


async def test_a_person_with_open_tasks_is_not_erased_until_they_are_done_or_reassigned(
    db_pool: asyncpg.Pool,
) -> None:
    store = EventStore(db_pool)
    person = await new_person(db_pool)
    stream = await start_pilot(store, person)

    with pytest.raises(ParticipantHoldsOpenTasks) as refused:
        await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-18")

    assert [(t.stream_id, t.task_key) for t in refused.value.tasks] == [(stream, "self_assessment@R")]
    assert f"{stream} self_assessment@R" in str(refused.value) and "leda reassign" in str(refused.value)
    assert await get_participant(db_pool, person.participant_id) == person  # nothing changed

    await complete(store, stream, "self_assessment@R", person.participant_id)
    erasure = await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-18")
    assert erasure.participant_id == person.participant_id


async def test_erasing_an_unknown_id_is_refused_and_a_second_erasure_says_it_is_done(db_pool: asyncpg.Pool) -> None:
    person = await new_person(db_pool)
    versions_before = await EventStore(db_pool).stream_version(DIRECTORY_STREAM)

    with pytest.raises(UnknownParticipant, match="no participant 'erasetest-nobody'"):
        await erase_participant(db_pool, "erasetest-nobody", by="operations", reason="ärende 2026-19")
    await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-19")
    with pytest.raises(AlreadyErased, match="already erased on"):
        await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-19")

    assert await EventStore(db_pool).stream_version(DIRECTORY_STREAM) == versions_before + 1  # one record


async def test_an_erased_participant_cannot_be_imported_again_under_the_same_id(db_pool: asyncpg.Pool) -> None:
    person = await new_person(db_pool)
    other = Participant(
        participant_id=f"erasetest-{uuid.uuid4().hex[:8]}",
        kommunkod="9991",
        role="hr",
        display_name="Annan Person",
        email="annan@example.invalid",
    )
    await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-20")

    with pytest.raises(ErasedParticipantsError, match=person.participant_id):
        await upsert_participants(db_pool, [other, person])  # e.g. the old CSV file, imported again

    assert await get_participant(db_pool, person.participant_id) is None
    assert await get_participant(db_pool, other.participant_id) is None  # all or nothing


@pytest.mark.parametrize("field", ["reason", "by"])
async def test_a_reason_or_actor_naming_the_person_is_refused(db_pool: asyncpg.Pool, field: str) -> None:
    person = await new_person(db_pool)
    surname = person.display_name.split()[-1]
    arguments = {"by": "operations", "reason": "ärende 2026-21", field: f"begäran från {surname.upper()}"}

    with pytest.raises(ErasureRefused, match=f"{field} contains the person's name"):
        await erase_participant(db_pool, person.participant_id, **arguments)

    assert await get_participant(db_pool, person.participant_id) == person


async def test_mail_for_an_erased_person_still_on_a_running_pilot_s_roster_is_skipped_not_failed(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    store = EventStore(db_pool)
    person = await new_person(db_pool)
    running = await start_pilot(store, person)
    finished = await start_pilot(store, person)
    for stream in (running, finished):
        await complete(store, stream, "self_assessment@R", person.participant_id)
    await store.append(finished, 3, [recorded(PilotCompleted(event_id=uuid.uuid4(), occurred_at=T0))])
    # Roster changes since the start count: one pilot took the person off rektor, another made them hr too.
    left, joined = await start_pilot(store, person), await start_pilot(store, person)
    for stream in (left, joined):
        await complete(store, stream, "self_assessment@R", person.participant_id)
    await store.append(left, 3, [recorded(roster_change(Role.REKTOR, leaving=person.participant_id))])
    await store.append(joined, 3, [recorded(roster_change(Role.HR, joining=person.participant_id))])

    erasure = await erase_participant(db_pool, person.participant_id, by="operations", reason="ärende 2026-22")
    before = len(mail_capture.messages())
    result = await ActivityEnvironment().run(
        notifications(db_pool, mail_capture).send_notification, notification(person, running)
    )

    assert sorted((place.stream_id, place.role) for place in erasure.roster_places) == sorted(
        [(running, "rektor"), (joined, "hr"), (joined, "rektor")]
    )
    assert result.recipient_erased and result.message_id is None and not result.already_sent
    assert len(mail_capture.messages()) == before
