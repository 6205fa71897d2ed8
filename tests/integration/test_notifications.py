"""send_notification against a real SMTP server: the mail's content, and no second mail on a retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import NotificationRequest
from activities.notifications import Notifications, SmtpMailer, SmtpSettings
from devstack.mail import MailCapture


def notifications(pool: asyncpg.Pool, mail: MailCapture) -> Notifications:
    sender = "Leda <leda@example.invalid>"
    mailer = SmtpMailer(SmtpSettings(host=mail.host, port=mail.port, sender=sender))
    return Notifications(pool, mailer, sender=sender, task_link_base_url="http://leda.test/tasks")


def request(kind: str = "reminder", recipient: str = "p-1861-hr") -> NotificationRequest:
    return NotificationRequest(
        notification_id=uuid.uuid4(),
        kind=kind,  # type: ignore[arg-type]
        recipient_id=recipient,
        workflow_id=f"leda-test-{uuid.uuid4().hex[:6]}-1861",
        kommunkod="1861",
        municipality_name="Hallsberg",
        task_key="self_assessment",
        task_title_sv="Självskattning mot de åtta framgångsfaktorerna",
        task_title_en="Self-assessment against the eight success factors",
        due_at=datetime.now(UTC) + timedelta(days=7),
        reminder_number=1,
    )


async def test_a_retried_notification_sends_one_mail(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    activity = notifications(db_pool, mail_capture).send_notification
    req = request()
    first = await ActivityEnvironment().run(activity, req)
    second = await ActivityEnvironment().run(activity, req)

    assert not first.already_sent and second.already_sent
    assert second.message_id == first.message_id
    mails = await mail_capture.wait_for(lambda m: m["Message-ID"] == first.message_id)
    assert len(mails) == 1


async def test_a_reminder_is_in_swedish_first_with_english_and_a_link_to_the_task(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    req = request()
    result = await ActivityEnvironment().run(notifications(db_pool, mail_capture).send_notification, req)

    [mail] = await mail_capture.wait_for(lambda m: m["Message-ID"] == result.message_id)
    body = mail.get_content()
    assert "hr.1861@example.invalid" in str(mail["To"])
    assert str(mail["Subject"]).startswith("Påminnelse / Reminder")
    assert body.index("Påminnelse 1") < body.index("Reminder 1")
    assert f"http://leda.test/tasks/{req.workflow_id}/self_assessment" in body


async def test_a_notification_to_someone_not_in_the_directory_fails_without_sending(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    before = len(mail_capture.messages())
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(
            notifications(db_pool, mail_capture).send_notification, request(recipient="p-nobody")
        )
    assert failure.value.type == "UnknownRecipient"
    assert len(mail_capture.messages()) == before


async def test_a_participant_who_reads_swedish_gets_the_mail_in_swedish_only(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    req = request(recipient="p-1861-rektor")  # language sv in the synthetic directory
    result = await ActivityEnvironment().run(notifications(db_pool, mail_capture).send_notification, req)

    [mail] = await mail_capture.wait_for(lambda m: m["Message-ID"] == result.message_id)
    body = mail.get_content()
    assert "Påminnelse 1" in body and "In English" not in body
