"""Mail to participants: assignment, reminder and escalation, sent over real SMTP, at most once each."""

from __future__ import annotations

from email.message import Message

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from access.sign_in import issue_sign_in_link, sign_in_url, task_page
from activities.contracts import NotificationRequest, NotificationResult
from adapters.mail import SmtpMailer, envelope
from directory import Participant, erased_at, get_participant
from domain.moments import in_swedish_time

# Mailed (its Message-ID) or queued for a digest (no message yet): at most one of the two logs has it.
_ALREADY_HANDLED = """
SELECT message_id, false AS queued FROM notifications_sent WHERE notification_id = $1
UNION ALL
SELECT NULL, true FROM digest_items WHERE notification_id = $1
LIMIT 1
"""

_QUEUE_FOR_DIGEST = """
INSERT INTO digest_items (notification_id, participant_id, kind, workflow_id, task_key, request)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (notification_id) DO NOTHING
RETURNING true
"""


_ESCALATION_ADVICE = {
    "lead": (
        "\nSom programledare kan du förlänga uppgiften eller flytta den till någon annan, på kommunens sida i Leda.",
        "\nAs the programme lead you can extend the task or move it to someone else, on the municipality's page.",
    ),
    "manager": (
        "\nDu får det här som chef för den som har uppgiften. Öppna uppgiften och se läget; be den som har den att "
        "slutföra den, eller be programledaren att flytta den till någon annan.",
        "\nYou get this as the line manager of the task's holder. Open the task to see where it stands; ask its "
        "holder to finish it, or ask the programme lead to move it to someone else.",
    ),
}
"""What the one an overdue task is escalated to can do about it, by why it reached them."""


class Notifications:
    def __init__(self, pool: asyncpg.Pool, mailer: SmtpMailer, sender: str, web_base_url: str) -> None:
        self._pool = pool
        self._mailer = mailer
        self._sender = sender
        self._web_base = web_base_url

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotificationRequest) -> NotificationResult:
        """Mail one participant about one task, or queue it for their daily digest; once per notification."""
        # Both logs, whatever the recipient prefers now: one who switched between two attempts of this very
        # notification must not get it once in a digest and once more by mail.
        already = await self._pool.fetchrow(_ALREADY_HANDLED, request.notification_id)
        if already is not None:
            return NotificationResult(
                message_id=already["message_id"], already_sent=True, queued_for_digest=already["queued"]
            )
        recipient = await get_participant(self._pool, request.recipient_id)
        if recipient is None:
            if await erased_at(self._pool, request.recipient_id) is not None:
                # A running pilot's roster may still name someone erased since: there is no one to mail, and
                # failing would stop the pilot. The task stays open for the lead to reassign.
                activity.logger.warning(
                    "notification not sent: the recipient was erased from the directory",
                    extra={"kind": request.kind, "task_key": request.task_key, "recipient_id": request.recipient_id},
                )
                return NotificationResult(already_sent=False, recipient_erased=True)
            raise ApplicationError(
                f"participant {request.recipient_id!r} is not in the directory", type="UnknownRecipient"
            )
        if recipient.mail_delivery == "daily_digest":
            return await self._queue_for_digest(request)
        # The link signs the recipient in on the task's page; a retried attempt mails a fresh one.
        token = await issue_sign_in_link(self._pool, recipient.participant_id)
        message = self.compose(
            request, recipient, sign_in_url(self._web_base, token, task_page(request.workflow_id, request.task_key))
        )
        await self._mailer.send(message)
        await self._pool.execute(
            """
            INSERT INTO notifications_sent (notification_id, participant_id, kind, workflow_id, task_key, message_id)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (notification_id) DO NOTHING
            """,
            request.notification_id,
            request.recipient_id,
            request.kind,
            request.workflow_id,
            request.task_key,
            message["Message-ID"],
        )
        activity.logger.info(
            "notification sent",
            extra={"kind": request.kind, "task_key": request.task_key, "recipient_id": request.recipient_id},
        )
        return NotificationResult(message_id=message["Message-ID"], already_sent=False)

    async def _queue_for_digest(self, request: NotificationRequest) -> NotificationResult:
        queued = await self._pool.fetchval(
            _QUEUE_FOR_DIGEST,
            request.notification_id,
            request.recipient_id,
            request.kind,
            request.workflow_id,
            request.task_key,
            request.model_dump(mode="json"),
        )
        activity.logger.info(
            "notification queued for the daily digest",
            extra={"kind": request.kind, "task_key": request.task_key, "recipient_id": request.recipient_id},
        )
        # Nothing returned: a concurrent attempt of the same notification queued it first.
        return NotificationResult(already_sent=queued is None, queued_for_digest=True)

    def compose(self, request: NotificationRequest, recipient: Participant, link: str) -> Message:
        """The mail in Swedish, followed by English for participants who chose it, with `link` to the task."""
        due_sv = in_swedish_time(request.due_at) if request.due_at else "inget slutdatum"
        due_en = in_swedish_time(request.due_at) if request.due_at else "no deadline"
        place = request.municipality_name
        if request.kind == "assignment":
            subject = f"Ny uppgift / New task: {request.task_title_sv} ({place})"
            sv = f"Du har fått en ny uppgift i Leda för resultat: {request.task_title_sv}.\nSista dag: {due_sv}."
            en = f"You have a new task in Lead for Results: {request.task_title_en}.\nDue: {due_en}."
        elif request.kind == "reminder":
            subject = f"Påminnelse / Reminder: {request.task_title_sv} ({place})"
            sv = f"Påminnelse {request.reminder_number}: uppgiften {request.task_title_sv} ska vara klar {due_sv}."
            en = f"Reminder {request.reminder_number}: the task {request.task_title_en} is due {due_en}."
        elif request.kind == "decision_due":
            subject = f"Beslut att fatta / Decision due: {request.task_title_sv} ({place})"
            sv = (
                f"Påminnelse {request.reminder_number}: nämnden ska fatta beslut om {request.task_title_sv} "
                f"senast vid sammanträdet {due_sv}. Registrera beslutet och protokollsuppgifterna i Leda."
            )
            en = (
                f"Reminder {request.reminder_number}: the board is to decide on {request.task_title_en} "
                f"at its meeting by {due_en}. Record the decision and its minutes in Leda."
            )
        elif request.kind == "withdrawn":
            subject = f"Uppgiften stängd / Task closed: {request.task_title_sv} ({place})"
            sv = (
                f"{place} har lämnat Leda för resultat, så uppgiften {request.task_title_sv} är stängd. "
                f"Du behöver inte göra något mer.\nSkäl: {request.note or '–'}"
            )
            en = (
                f"{place} has left Lead for Results, so the task {request.task_title_en} is closed. "
                f"Nothing more is needed from you.\nReason: {request.note or '–'}"
            )
        else:
            subject = f"Försenad uppgift / Overdue task: {request.task_title_sv} ({place})"
            sv = (
                f"Uppgiften {request.task_title_sv} i {place} är försenad sedan {due_sv}.\n"
                f"Tilldelad deltagare: {request.assignee_id}."
            )
            en = (
                f"The task {request.task_title_en} in {place} has been overdue since {due_en}.\n"
                f"Assigned participant: {request.assignee_id}."
            )
            what_sv, what_en = _ESCALATION_ADVICE.get(request.escalated_as or "", ("", ""))
            sv, en = sv + what_sv, en + what_en
        greeting_sv = f"Hej {recipient.display_name}!"
        greeting_en = f"Hello {recipient.display_name},"
        body = f"{greeting_sv}\n\n{sv}\nÖppna uppgiften: {link}\n"
        if recipient.language == "en":  # Swedish first, then English for those who asked for it
            body += f"\n-- In English --\n{greeting_en}\n\n{en}\nOpen the task: {link}\n"
        return envelope(
            self._sender,
            (recipient.display_name, recipient.email),
            subject,
            body,
            message_key=str(request.notification_id),
            headers={"X-Leda-Notification": f"{request.kind}; {request.workflow_id}; {request.task_key}"},
        )
