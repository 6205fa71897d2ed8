"""The daily digest: one mail per participant who asked for it, listing every notification queued for them.

``send_notification`` queues a digest participant's notifications in ``digest_items``; ``send_digests`` runs
once a day (the Temporal schedule ``leda-daily-digest`` starts ``DailyDigestWorkflow``, which calls it).
Each participant's digest is its own transaction: their pending items are locked with ``FOR UPDATE SKIP
LOCKED``, so two runs at once (a retry racing a slow attempt, a trigger from the UI) never mail the same item
twice; the mail goes out; the items are settled and the digest logged; then it commits.

Delivery is at least once, as for single mails: if the commit fails after the relay took the mail, the items
stay pending and go out again in the next digest. Items whose task is no longer open in the inbox read model
are left out of the mail and settled as ``superseded``, so nothing queued is lost without a record.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from access.sign_in import issue_sign_in_link, sign_in_url, task_page
from activities.contracts import DigestResult, NotificationRequest
from adapters.mail import SmtpMailer, envelope
from directory import Participant, get_participant
from domain.moments import in_swedish_time
from projections import InboxProjection, InboxTask

_PARTICIPANTS_WITH_PENDING_ITEMS = (
    "SELECT DISTINCT participant_id FROM digest_items WHERE outcome IS NULL ORDER BY participant_id"
)

# SKIP LOCKED: items another run is mailing right now are theirs; this run leaves them alone.
_LOCK_PENDING_ITEMS = """
SELECT notification_id, request FROM digest_items
 WHERE participant_id = $1 AND outcome IS NULL
 ORDER BY queued_at, notification_id
   FOR UPDATE SKIP LOCKED
"""

_LOG_DIGEST = """
INSERT INTO digests_sent (digest_id, participant_id, message_id, item_count) VALUES ($1, $2, $3, $4)
"""

_SETTLE_ITEMS = """
UPDATE digest_items SET outcome = $2, digest_id = $3, settled_at = now() WHERE notification_id = ANY($1::uuid[])
"""

# (Swedish, English) label of an item's line, by notification kind.
_KIND_LABELS = {
    "assignment": ("Ny uppgift", "New task"),
    "reminder": ("Påminnelse", "Reminder"),
    "decision_due": ("Beslut att fatta", "Decision due"),
    "escalation": ("Försenad uppgift", "Overdue task"),
    "withdrawn": ("Uppgiften stängd, kommunen har lämnat programmet", "Task closed, the municipality withdrew"),
}


@dataclass(frozen=True)
class _Item:
    notification_id: uuid.UUID
    request: NotificationRequest
    due_at: datetime | None
    """The task's deadline as the inbox has it now (a later one if it was extended), else as notified."""


@dataclass(frozen=True)
class _Outcome:
    mailed: bool = False
    sent: int = 0
    superseded: int = 0
    undeliverable: int = 0


class Digests:
    def __init__(
        self, pool: asyncpg.Pool, mailer: SmtpMailer, inbox: InboxProjection, sender: str, web_base_url: str
    ) -> None:
        self._pool = pool
        self._mailer = mailer
        self._inbox = inbox
        self._sender = sender
        self._web_base = web_base_url

    @activity.defn(name="send_digests")
    async def send_digests(self) -> DigestResult:
        """Mail every participant with pending digest items one digest of them; settle each item."""
        participant_ids = [row["participant_id"] for row in await self._pool.fetch(_PARTICIPANTS_WITH_PENDING_ITEMS)]
        result = DigestResult()
        not_sent: list[str] = []
        for participant_id in participant_ids:
            activity.heartbeat()
            try:
                outcome = await self._send_digest(participant_id)
            except (smtplib.SMTPException, OSError) as error:
                # One relay refusal must not hold back everyone else's digest; this one's items stay pending.
                activity.logger.warning(
                    "digest not sent; its items stay queued",
                    extra={"recipient_id": participant_id, "error": type(error).__name__},
                )
                not_sent.append(participant_id)
                continue
            result.participants_mailed += int(outcome.mailed)
            result.items_sent += outcome.sent
            result.items_superseded += outcome.superseded
            result.items_undeliverable += outcome.undeliverable
        activity.logger.info("daily digests done", extra=result.model_dump())
        if not_sent:
            raise ApplicationError(
                f"the digests of {len(not_sent)} participant(s) could not be mailed; their items stay queued "
                f"for the next attempt ({', '.join(not_sent)})",
                type="DigestNotSent",
            )
        return result

    async def _send_digest(self, participant_id: str) -> _Outcome:
        """One participant's digest, in one transaction that holds their pending items until it commits."""
        recipient = await get_participant(self._pool, participant_id)
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(_LOCK_PENDING_ITEMS, participant_id)
            if not rows:
                return _Outcome()  # another run has them, or just sent them
            if recipient is None:
                # Left the directory (erased, say) since the items were queued: nobody to mail, but recorded.
                ids = [row["notification_id"] for row in rows]
                await connection.execute(_SETTLE_ITEMS, ids, "undeliverable", None)
                activity.logger.warning(
                    "digest items for a participant no longer in the directory",
                    extra={"recipient_id": participant_id, "items": len(ids)},
                )
                return _Outcome(undeliverable=len(ids))

            current, superseded = await self._still_open(rows)
            if superseded:
                await connection.execute(_SETTLE_ITEMS, superseded, "superseded", None)
            if not current:
                activity.logger.info(
                    "digest not needed: every queued task is done",
                    extra={"recipient_id": participant_id, "superseded": len(superseded)},
                )
                return _Outcome(superseded=len(superseded))

            digest_id = uuid.uuid4()
            # One sign-in token for the whole digest: every link in it is the same participant's.
            token = await issue_sign_in_link(self._pool, participant_id)
            message = self.compose(digest_id, current, recipient, token)
            await self._mailer.send(message)
            await connection.execute(_LOG_DIGEST, digest_id, participant_id, message["Message-ID"], len(current))
            await connection.execute(_SETTLE_ITEMS, [item.notification_id for item in current], "sent", digest_id)
        activity.logger.info(
            "digest sent",
            extra={
                "recipient_id": participant_id,
                "digest_id": str(digest_id),
                "items": len(current),
                "superseded": len(superseded),
            },
        )
        return _Outcome(mailed=True, sent=len(current), superseded=len(superseded))

    async def _still_open(self, rows: list[asyncpg.Record]) -> tuple[list[_Item], list[uuid.UUID]]:
        """Split locked items into those to mail and those whose task the inbox shows as completed, closed or
        now held by someone else.

        A task the inbox has not seen (its projection lagging behind) counts as open: only what is known to
        be done is left out.
        """
        current: list[_Item] = []
        superseded: list[uuid.UUID] = []
        tasks: dict[tuple[str, str], InboxTask | None] = {}
        for row in rows:
            request = NotificationRequest.model_validate(row["request"])
            key = (request.workflow_id, request.task_key)
            if key not in tasks:
                tasks[key] = await self._inbox.task(*key)
            task = tasks[key]
            # A task since handed to someone else is no longer the recipient's to do (escalations are about
            # someone else's task by nature).
            moved = task is not None and request.kind != "escalation" and task.participant_id != request.recipient_id
            # A withdrawal notice is about a task that closed: that is its news, not a reason to drop it.
            if task is not None and request.kind != "withdrawn" and (task.status != "open" or moved):
                superseded.append(row["notification_id"])
                continue
            due_at = task.due_at if task is not None else request.due_at
            current.append(_Item(notification_id=row["notification_id"], request=request, due_at=due_at))
        return current, superseded

    def compose(self, digest_id: uuid.UUID, items: list[_Item], recipient: Participant, token: str) -> Message:
        """The digest in Swedish, then English for participants who chose it: a line and a link per item, each
        signing the recipient in with `token`."""
        count = len(items)
        sv_lines, en_lines = [], []
        for item in items:
            request = item.request
            link = sign_in_url(self._web_base, token, task_page(request.workflow_id, request.task_key))
            label_sv, label_en = _KIND_LABELS.get(request.kind, (request.kind, request.kind))
            if request.reminder_number is not None and request.kind == "reminder":
                label_sv, label_en = f"{label_sv} {request.reminder_number}", f"{label_en} {request.reminder_number}"
            elif request.reminder_number is not None and request.kind == "decision_due":
                label_sv += f", påminnelse {request.reminder_number}"
                label_en += f", reminder {request.reminder_number}"
            due_sv = f"sista dag {in_swedish_time(item.due_at)}" if item.due_at else "inget slutdatum"
            due_en = f"due {in_swedish_time(item.due_at)}" if item.due_at else "no deadline"
            place = request.municipality_name
            sv = f"- {label_sv}: {request.task_title_sv} ({place}), {due_sv}."
            en = f"- {label_en}: {request.task_title_en} ({place}), {due_en}."
            if request.kind == "escalation" and request.assignee_id:
                sv += f" Tilldelad deltagare: {request.assignee_id}."
                en += f" Assigned participant: {request.assignee_id}."
            sv_lines.append(f"{sv}\n  Öppna uppgiften: {link}")
            en_lines.append(f"{en}\n  Open the task: {link}")

        subject = f"Daglig sammanfattning / Daily digest: {count} {'ärende' if count == 1 else 'ärenden'}"
        body = (
            f"Hej {recipient.display_name}!\n\n"
            f"Här är dagens sammanfattning från Leda för resultat, {count} st.:\n\n"
            + "\n".join(sv_lines)
            + "\n\nDu får en sammanfattning om dagen i stället för ett mejl per ärende.\n"
        )
        if recipient.language == "en":  # Swedish first, then English for those who asked for it
            body += (
                f"\n-- In English --\nHello {recipient.display_name},\n\n"
                f"Here is today's digest from Lead for Results, {count} in all:\n\n"
                + "\n".join(en_lines)
                + "\n\nYou get one digest a day instead of one mail per notification.\n"
            )
        return envelope(
            self._sender,
            (recipient.display_name, recipient.email),
            subject,
            body,
            message_key=str(digest_id),
            headers={"X-Leda-Digest": f"{digest_id}; {count}"},
        )
