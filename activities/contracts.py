"""What the workflow sends its activities and gets back: plain serialisable models, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field


class EventEnvelope(BaseModel):
    event_id: UUID
    event_type: str
    schema_version: int
    data: dict[str, Any]
    actor: str | None = None
    """Who this event is on the record as done by, when not the batch's actor (what an answer opened: the system)."""


class AppendEventsRequest(BaseModel):
    stream_id: str
    expected_version: int
    events: list[EventEnvelope] = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)


class AppendEventsResult(BaseModel):
    last_version: int
    global_positions: list[int]
    already_stored: bool


class RecordDecisionRequest(BaseModel):
    """Events that include a DecisionRecorded; the decision also enters the decision register."""

    append: AppendEventsRequest
    kommunkod: str
    decision_event_id: UUID


NotificationKind = Literal["assignment", "reminder", "escalation", "decision_due", "withdrawn"]
"""decision_due: the reminder of a task the nämnd decides, which is due at one of its meetings; withdrawn: the
municipality left the programme and the task is closed."""


EscalatedAs = Literal["lead", "manager"]
"""Why an escalation goes to someone: they lead the pilot, or they are the task holder's line manager."""


class NotificationRequest(BaseModel):
    """One mail to one participant about one task; `notification_id` makes a retried send a no-op."""

    notification_id: UUID
    kind: NotificationKind
    recipient_id: str
    workflow_id: str
    kommunkod: str
    municipality_name: str
    task_key: str
    task_title_sv: str
    task_title_en: str
    due_at: datetime | None
    assignee_id: str | None = None
    reminder_number: int | None = None
    note: str | None = Field(default=None, max_length=1000, description="why, for a withdrawal")
    escalated_as: EscalatedAs | None = Field(
        default=None, description="for an escalation: whether the recipient leads the pilot or manages the holder"
    )


class NotificationResult(BaseModel):
    """What became of a notification: mailed (``message_id``), or queued for the recipient's daily digest.

    ``already_sent``: an earlier attempt of the same notification already mailed or queued it. Fields added
    later have defaults, so results stored in older workflow histories still read.
    """

    message_id: str | None = None
    already_sent: bool
    queued_for_digest: bool = False
    recipient_erased: bool = False
    """Not sent: the recipient's data was erased from the directory (``directory.erasure``)."""


class DigestResult(BaseModel):
    """What one run of the daily digest did; counts only, no one's name or address."""

    participants_mailed: int = 0
    items_sent: int = 0
    # Left out because their task was no longer open when the digest went out.
    items_superseded: int = 0
    # Left out because their participant had left the directory.
    items_undeliverable: int = 0


class GatherKpisRequest(BaseModel):
    kommunkod: str
    kpis: list[str]
    years: list[int]
    # KPIs fetched per school unit; None (what requests from before unit data carry) means domain.kpis.UNIT_KPIS.
    unit_kpis: list[str] | None = None
    # The kind of Kolada municipality group to compare with (the template's comparison_group); None: Riket only.
    comparison_group: str | None = None


class GatherFollowUpFiguresRequest(BaseModel):
    """The plan's KPIs for one year: what a yearly follow-up opens with."""

    kommunkod: str
    kpis: list[str]
    year: int
