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


NotificationKind = Literal["assignment", "reminder", "escalation"]


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


class NotificationResult(BaseModel):
    message_id: str
    already_sent: bool


class GatherKpisRequest(BaseModel):
    kommunkod: str
    kpis: list[str]
    years: list[int]
    # KPIs fetched per school unit; None (what requests from before unit data carry) means domain.kpis.UNIT_KPIS.
    unit_kpis: list[str] | None = None
