"""The daily digest against PostgreSQL and a real SMTP server: queued instead of mailed, then one mail a day.

Other tests share the session database and may leave items pending, so every test has digest participants
of its own (a kommunkod and role no pilot uses, so none is ever assigned a task) and asserts on their mail
and their items alone.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import NotificationRequest
from activities.digests import Digests
from activities.notifications import Notifications
from adapters.mail import SmtpMailer, SmtpSettings
from devstack.mail import MailCapture
from directory import Participant, upsert_participants
from domain.events import PilotStarted, TaskCompleted, TaskOpened, TaskReassigned
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore
from projections import InboxProjection
from tests.recorded_events import recorded

SENDER = "Leda <leda@example.invalid>"
LINKS = "http://leda.test"
DUE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SELF_ASSESSMENT = ("self_assessment", "Självskattning mot de åtta framgångsfaktorerna", "Self-assessment")
DATA_PACK = ("documents", "Underlag och dokument", "Documents")


def mailer(mail: MailCapture) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host=mail.host, port=mail.port, sender=SENDER))


def notifications(pool: asyncpg.Pool, mail: MailCapture) -> Notifications:
    return Notifications(pool, mailer(mail), sender=SENDER, web_base_url=LINKS)


def digests(pool: asyncpg.Pool, mail: MailCapture) -> Digests:
    return Digests(pool, mailer(mail), InboxProjection(pool), sender=SENDER, web_base_url=LINKS)


async def new_participant(
    pool: asyncpg.Pool, *, mail_delivery: str = "daily_digest", language: str = "sv"
) -> Participant:
    participant_id = f"digesttest-{uuid.uuid4().hex[:10]}"
    participant = Participant.model_validate(
        {
            "participant_id": participant_id,
            "kommunkod": "9990",
            "role": "analytiker",
            "display_name": "Exempel Digest (syntetisk)",
            "email": f"{participant_id}@example.invalid",
            "language": language,
            "mail_delivery": mail_delivery,
        }
    )
    await upsert_participants(pool, [participant])
    return participant


def pilot() -> str:
    return f"leda-digesttest-{uuid.uuid4().hex[:8]}-1861"


def notification(
    recipient: Participant, workflow_id: str, task: tuple[str, str, str], kind: str = "assignment"
) -> NotificationRequest:
    task_key, title_sv, title_en = task
    return NotificationRequest(
        notification_id=uuid.uuid4(),
        kind=kind,  # type: ignore[arg-type]
        recipient_id=recipient.participant_id,
        workflow_id=workflow_id,
        kommunkod="1861",
        municipality_name="Hallsberg",
        task_key=task_key,
        task_title_sv=title_sv,
        task_title_en=title_en,
        due_at=DUE,
        reminder_number=1 if kind == "reminder" else None,
    )


async def notify(pool: asyncpg.Pool, mail: MailCapture, *requests: NotificationRequest) -> None:
    for request in requests:
        result = await ActivityEnvironment().run(notifications(pool, mail).send_notification, request)
        assert result.queued_for_digest and result.message_id is None


def mail_to(mail: MailCapture, participant: Participant) -> list[EmailMessage]:
    """Everything delivered to the participant so far (the capture has it once SMTP has answered)."""
    return [m for m in mail.messages() if participant.email in str(m["X-Envelope-To"])]


def link(workflow_id: str, task: tuple[str, str, str]) -> str:
    """The start of a task's sign-in link (the token after it is the digest's own)."""
    return f"{LINKS}/pilots/{workflow_id}/tasks/{task[0]}?token="


async def outcomes(pool: asyncpg.Pool, participant: Participant) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT coalesce(outcome, 'pending') AS outcome, count(*) AS n FROM digest_items"
        " WHERE participant_id = $1 GROUP BY 1",
        participant.participant_id,
    )
    return {row["outcome"]: row["n"] for row in rows}


async def test_a_digest_participant_gets_their_notifications_in_one_swedish_mail_a_day(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    workflow_id = pilot()
    await notify(
        db_pool,
        mail_capture,
        notification(reader, workflow_id, SELF_ASSESSMENT),
        notification(reader, workflow_id, SELF_ASSESSMENT, kind="reminder"),
        notification(reader, workflow_id, DATA_PACK),
        notification(reader, workflow_id, DATA_PACK, kind="reminder"),
    )
    assert mail_to(mail_capture, reader) == []  # queued, not mailed
    assert await outcomes(db_pool, reader) == {"pending": 4}

    result = await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    [digest] = mail_to(mail_capture, reader)
    body = digest.get_content()
    assert link(workflow_id, SELF_ASSESSMENT) in body and link(workflow_id, DATA_PACK) in body
    assert "Ny uppgift: Självskattning mot de åtta framgångsfaktorerna (Hallsberg), sista dag 2026-03-02" in body
    assert "Påminnelse 1: Underlag och dokument (Hallsberg)" in body
    assert "In English" not in body and "Self-assessment" not in body
    assert str(digest["Subject"]).startswith("Daglig sammanfattning / Daily digest: 4 ärenden")
    assert await outcomes(db_pool, reader) == {"sent": 4}
    assert result.participants_mailed >= 1 and result.items_sent >= 4
    logged = await db_pool.fetchrow(
        "SELECT message_id, item_count FROM digests_sent WHERE participant_id = $1", reader.participant_id
    )
    assert logged["message_id"] == digest["Message-ID"] and logged["item_count"] == 4


async def test_a_participant_who_reads_english_gets_the_digest_in_swedish_then_english(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool, language="en")
    workflow_id = pilot()
    await notify(db_pool, mail_capture, notification(reader, workflow_id, SELF_ASSESSMENT, kind="reminder"))

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    [digest] = mail_to(mail_capture, reader)
    body = digest.get_content()
    assert body.index("Påminnelse 1: Självskattning") < body.index("-- In English --")
    assert body.index("-- In English --") < body.index("Reminder 1: Self-assessment (Hallsberg), due 2026-03-02")
    # Noon UTC is one in the afternoon in Sweden in March: every time a person reads is Swedish time, zone named.
    assert "sista dag 2026-03-02 13:00 CET" in body and "due 2026-03-02 13:00 CET" in body
    assert body.count(link(workflow_id, SELF_ASSESSMENT)) == 2  # once per language


async def test_a_second_digest_run_sends_nothing_already_sent(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    reader = await new_participant(db_pool)
    await notify(db_pool, mail_capture, notification(reader, pilot(), SELF_ASSESSMENT))
    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    assert len(mail_to(mail_capture, reader)) == 1
    assert await outcomes(db_pool, reader) == {"sent": 1}


async def test_a_retried_notification_is_queued_once(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    reader = await new_participant(db_pool)
    workflow_id = pilot()
    request = notification(reader, workflow_id, SELF_ASSESSMENT)
    send = notifications(db_pool, mail_capture).send_notification

    first = await ActivityEnvironment().run(send, request)
    second = await ActivityEnvironment().run(send, request)

    assert (first.already_sent, second.already_sent) == (False, True)
    assert first.queued_for_digest and second.queued_for_digest
    assert await outcomes(db_pool, reader) == {"pending": 1}
    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)
    [digest] = mail_to(mail_capture, reader)
    assert digest.get_content().count(link(workflow_id, SELF_ASSESSMENT)) == 1


async def test_a_retry_after_switching_to_immediate_mail_does_not_mail_what_was_queued(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    request = notification(reader, pilot(), SELF_ASSESSMENT)
    send = notifications(db_pool, mail_capture).send_notification
    await ActivityEnvironment().run(send, request)
    await upsert_participants(db_pool, [reader.model_copy(update={"mail_delivery": "immediate"})])

    retried = await ActivityEnvironment().run(send, request)

    assert retried.already_sent and retried.queued_for_digest
    assert mail_to(mail_capture, reader) == []
    assert await outcomes(db_pool, reader) == {"pending": 1}  # still goes out in the next digest


async def test_an_immediate_participant_is_mailed_at_once_and_nothing_is_queued(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool, mail_delivery="immediate")
    workflow_id = pilot()

    result = await ActivityEnvironment().run(
        notifications(db_pool, mail_capture).send_notification, notification(reader, workflow_id, SELF_ASSESSMENT)
    )

    assert not result.queued_for_digest and result.message_id is not None
    [mail] = mail_to(mail_capture, reader)
    assert mail["Message-ID"] == result.message_id
    assert str(mail["Subject"]).startswith("Ny uppgift / New task")
    assert await outcomes(db_pool, reader) == {}
    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)
    assert len(mail_to(mail_capture, reader)) == 1


# --- tasks that are done by the time the digest goes out ------------------------------------------------


async def record_pilot_with_tasks(
    pool: asyncpg.Pool, workflow_id: str, assignee: str, *, completed: str, reassigned: str | None = None
) -> None:
    """A pilot whose tasks SELF_ASSESSMENT and DATA_PACK are open, one of them then completed (and another
    reassigned to a colleague), in the inbox."""

    now = datetime.now(UTC)
    events = [
        PilotStarted(
            event_id=uuid.uuid4(),
            occurred_at=now,
            programme="digesttest",
            kommunkod="1861",
            municipality_name="Hallsberg",
            template_key="lfr-skola",
            deciding_organ="Bildningsnämnden",
            participants={Role.PROGRAMLEDARE: ["digesttest-lead"]},
        ),
        *(
            TaskOpened(
                event_id=uuid.uuid4(),
                occurred_at=now,
                task_key=key,
                template_key=key,
                phase=Phase.DEEP_ANALYSIS,
                assignee_id=assignee,
                due_at=now + timedelta(days=14),
            )
            for key in (SELF_ASSESSMENT[0], DATA_PACK[0])
        ),
        TaskCompleted(event_id=uuid.uuid4(), occurred_at=now, task_key=completed, completed_by=assignee, payload={}),
    ]
    if reassigned is not None:
        events.append(
            TaskReassigned(
                event_id=uuid.uuid4(),
                occurred_at=now,
                task_key=reassigned,
                from_participant=assignee,
                to_participant="p-1861-rektor",
                kind="reassign",
                reason="föräldraledig",
                by="digesttest-lead",
            )
        )
    await EventStore(pool).append(workflow_id, 0, [recorded(event) for event in events])
    projection = InboxProjection(pool)
    await projection.catch_up()
    task = await projection.task(workflow_id, completed)
    assert task is not None and task.status == "completed"


async def test_an_item_whose_task_was_completed_is_superseded_not_mailed(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    workflow_id = pilot()
    await notify(
        db_pool,
        mail_capture,
        notification(reader, workflow_id, SELF_ASSESSMENT),
        notification(reader, workflow_id, DATA_PACK),
    )
    await record_pilot_with_tasks(db_pool, workflow_id, reader.participant_id, completed=SELF_ASSESSMENT[0])

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    [digest] = mail_to(mail_capture, reader)
    body = digest.get_content()
    assert link(workflow_id, DATA_PACK) in body
    assert link(workflow_id, SELF_ASSESSMENT) not in body
    assert await outcomes(db_pool, reader) == {"sent": 1, "superseded": 1}


async def test_an_item_whose_task_went_to_someone_else_is_superseded(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    workflow_id = pilot()
    await notify(db_pool, mail_capture, notification(reader, workflow_id, DATA_PACK, kind="reminder"))
    await record_pilot_with_tasks(
        db_pool, workflow_id, reader.participant_id, completed=SELF_ASSESSMENT[0], reassigned=DATA_PACK[0]
    )

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    assert mail_to(mail_capture, reader) == []
    assert await outcomes(db_pool, reader) == {"superseded": 1}


async def test_a_digest_of_only_completed_tasks_is_not_sent(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    reader = await new_participant(db_pool)
    workflow_id = pilot()
    await notify(db_pool, mail_capture, notification(reader, workflow_id, DATA_PACK, kind="reminder"))
    await record_pilot_with_tasks(db_pool, workflow_id, reader.participant_id, completed=DATA_PACK[0])

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    assert mail_to(mail_capture, reader) == []
    assert await outcomes(db_pool, reader) == {"superseded": 1}
    assert not await db_pool.fetchval(
        "SELECT count(*) FROM digests_sent WHERE participant_id = $1", reader.participant_id
    )


# --- concurrency and the directory ----------------------------------------------------------------------


async def test_two_digest_runs_at_once_mail_each_item_once(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    readers = [await new_participant(db_pool) for _ in range(3)]
    for reader in readers:
        workflow_id = pilot()
        await notify(
            db_pool,
            mail_capture,
            notification(reader, workflow_id, SELF_ASSESSMENT),
            notification(reader, workflow_id, DATA_PACK),
        )

    await asyncio.gather(
        ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests),
        ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests),
    )

    for reader in readers:
        assert len(mail_to(mail_capture, reader)) == 1
        assert await outcomes(db_pool, reader) == {"sent": 2}


async def test_items_of_a_participant_who_left_the_directory_are_recorded_as_undeliverable(
    db_pool: asyncpg.Pool, owner_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    await notify(db_pool, mail_capture, notification(reader, pilot(), SELF_ASSESSMENT))
    # Behind the application's back (it erases people only with a record of it): the row is simply gone.
    await owner_pool.execute("DELETE FROM participants WHERE participant_id = $1", reader.participant_id)

    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)

    assert mail_to(mail_capture, reader) == []
    assert await outcomes(db_pool, reader) == {"undeliverable": 1}


async def test_a_relay_that_refuses_leaves_the_items_queued_and_fails_the_attempt(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    reader = await new_participant(db_pool)
    await notify(db_pool, mail_capture, notification(reader, pilot(), SELF_ASSESSMENT))
    closed_port = SmtpMailer(SmtpSettings(host="127.0.0.1", port=1, sender=SENDER))
    unreachable = Digests(db_pool, closed_port, InboxProjection(db_pool), sender=SENDER, web_base_url=LINKS)

    with pytest.raises(ApplicationError, match="could not be mailed") as failure:
        await ActivityEnvironment().run(unreachable.send_digests)

    assert failure.value.type == "DigestNotSent" and reader.participant_id in str(failure.value)
    assert await outcomes(db_pool, reader) == {"pending": 1}
    await ActivityEnvironment().run(digests(db_pool, mail_capture).send_digests)
    assert len(mail_to(mail_capture, reader)) == 1
