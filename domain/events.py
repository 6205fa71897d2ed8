"""Domain events: the permanent record of everything that happens to a pilot.

Events carry participant ids, never names or e-mail addresses: personal data lives only in the directory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from domain.calendar import SchoolCalendar
from domain.consolidation import Consolidation
from domain.phases import Phase
from domain.remediation import RemediationStep
from domain.roles import Role


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    occurred_at: datetime
    schema_version: int = Field(default=1, description="the version of the event's shape; see UPCASTERS")

    @model_validator(mode="after")
    def _of_its_version(self) -> DomainEvent:
        written_in = type(self).model_fields["schema_version"].default
        if self.schema_version != written_in:
            raise ValueError(
                f"schema_version: a {type(self).__name__} is of version {written_in}, not {self.schema_version}"
            )
        return self


class PilotStarted(DomainEvent):
    type: Literal["PilotStarted"] = "PilotStarted"
    programme: str
    kommunkod: str
    municipality_name: str
    template_key: str
    deciding_organ: str
    participants: dict[Role, list[str]]
    calendar: SchoolCalendar | None = None
    managers: dict[str, str] = Field(
        default_factory=dict, description="each participant's line manager, where the directory names one (ids)"
    )


class PhaseStarted(DomainEvent):
    type: Literal["PhaseStarted"] = "PhaseStarted"
    phase: Phase


class PhaseCompleted(DomainEvent):
    type: Literal["PhaseCompleted"] = "PhaseCompleted"
    phase: Phase


class TaskOpened(DomainEvent):
    type: Literal["TaskOpened"] = "TaskOpened"
    task_key: str
    template_key: str
    phase: Phase
    assignee_id: str
    due_at: datetime | None
    level: str | None = None
    year: int | None = None
    subject: str | None = None
    owner_role: Role | None = Field(
        default=None, description="the role whose task it is (whose days off move its deadline); None before 2026-12"
    )


class SelfAssessmentsConsolidated(DomainEvent):
    """Every level's self-assessment, consolidated: medians, spreads, and where the levels disagree."""

    type: Literal["SelfAssessmentsConsolidated"] = "SelfAssessmentsConsolidated"
    consolidation: Consolidation


class ImplementationYearStarted(DomainEvent):
    type: Literal["ImplementationYearStarted"] = "ImplementationYearStarted"
    year: int


class TaskReminderSent(DomainEvent):
    type: Literal["TaskReminderSent"] = "TaskReminderSent"
    task_key: str
    recipient_id: str
    reminder_number: int


class EscalationRecipient(BaseModel):
    """Someone an overdue task was escalated to, and as whom: the pilot's programme lead, or the holder's manager."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    participant_id: str
    escalated_as: Literal["lead", "manager"]


class TaskEscalated(DomainEvent):
    """An overdue task escalated: everyone told, the programme lead first.

    Version 2. Version 1 named the lead in `recipient_id` and the holder's line managers in `also_to`; its upcaster
    (`UPCASTERS`) gives the same people as recipients."""

    schema_version: int = 2
    type: Literal["TaskEscalated"] = "TaskEscalated"
    task_key: str
    overdue_since: datetime
    recipients: list[EscalationRecipient] = Field(min_length=1)


ReassignmentKind = Literal["reassign", "delegate", "stand_in", "return"]


class TaskReassigned(DomainEvent):
    """A task moved to someone else, and why: reassigned by the lead, delegated, a stand-in, or returned."""

    type: Literal["TaskReassigned"] = "TaskReassigned"
    task_key: str
    from_participant: str
    to_participant: str
    kind: ReassignmentKind
    reason: str
    by: str


class RosterChanged(DomainEvent):
    """Someone joined a role of the pilot, left it, or took a leaver's place: tasks of the role that open from now
    on go to its new first participant (domain.roster)."""

    type: Literal["RosterChanged"] = "RosterChanged"
    role: Role
    joining: str | None
    leaving: str | None
    reason: str
    by: str
    joining_manager: str | None = Field(default=None, description="the newcomer's line manager, from the directory")


class TaskDeadlineExtended(DomainEvent):
    type: Literal["TaskDeadlineExtended"] = "TaskDeadlineExtended"
    task_key: str
    due_at: datetime
    previous_due_at: datetime | None
    reason: str
    by: str


class TaskCompleted(DomainEvent):
    type: Literal["TaskCompleted"] = "TaskCompleted"
    task_key: str
    completed_by: str
    payload: dict[str, Any]


class DecisionRecorded(DomainEvent):
    """A nämnd decision with the latest dates the kommunallag allows for justering, anslag and appeal."""

    type: Literal["DecisionRecorded"] = "DecisionRecorded"
    task_key: str
    organ: str
    meeting_date: date
    paragraph: int
    diarienummer: str
    justering_due: date
    anslag_due: date
    appeal_period_ends_latest: date
    decision_key: str | None = Field(
        default=None,
        description="set when the task decides again after its decision was annulled: '<task key>/<n>'",
    )

    @property
    def key(self) -> str:
        """What names this decision: its task's key, or for a later decision of the same task '<task key>/<n>'."""
        return self.decision_key or self.task_key


class DecisionPosted(DomainEvent):
    """The minutes with a decision were approved and posted; the appeal period runs from the posting."""

    type: Literal["DecisionPosted"] = "DecisionPosted"
    decision_task_key: str
    justering_date: date
    anslag_date: date
    appeal_period_ends: date


class DecisionBecameFinal(DomainEvent):
    """The appeal period ended with no appeal pending (or the court let the decision stand): it has vunnit laga
    kraft."""

    type: Literal["DecisionBecameFinal"] = "DecisionBecameFinal"
    decision_task_key: str


AppealOutcome = Literal["avslaget", "upphavt", "delvis_upphavt", "avvisat"]
"""How the court ended a laglighetsprövning: the appeal rejected (the decision stands), the decision annulled
(upphävt), partly annulled (what is left stands), or the appeal dismissed without trial (avvisat, e.g. too late)."""


class DecisionAppealed(DomainEvent):
    """Someone appealed a nämnd decision to the förvaltningsrätt (laglighetsprövning, kommunallagen 13 kap.): it is
    not final while the appeal is pending."""

    type: Literal["DecisionAppealed"] = "DecisionAppealed"
    decision_key: str
    court: str
    case_number: str
    lodged_on: date
    by: str


class AppealDecided(DomainEvent):
    """The court's outcome of an appeal; an annulled decision's task is reopened (TaskReopened) to decide again."""

    type: Literal["AppealDecided"] = "AppealDecided"
    decision_key: str
    case_number: str
    outcome: AppealOutcome
    decided_on: date
    by: str


class InspectionDecisionRegistered(DomainEvent):
    type: Literal["InspectionDecisionRegistered"] = "InspectionDecisionRegistered"
    diarienummer: str
    decision: dict[str, Any]
    registered_by: str
    overdue_findings: list[int] = Field(
        default_factory=list, description="findings whose reporting deadline had passed when it was registered"
    )


class InspectionTrackClosedWithoutDecision(DomainEvent):
    """The programme ended with no Skolinspektionen decision registered during it: the comparison track closes
    with nothing to compare, and the pilot can complete."""

    type: Literal["InspectionTrackClosedWithoutDecision"] = "InspectionTrackClosedWithoutDecision"


class RemediationScheduled(DomainEvent):
    """The steps that remedy one finding, scheduled backwards from its reporting deadline."""

    type: Literal["RemediationScheduled"] = "RemediationScheduled"
    diarienummer: str
    finding_index: int
    deadline: date
    steps: list[RemediationStep]
    registered_late: bool = Field(
        default=False, description="the deadline had passed at registration: the steps count from the registration"
    )


class RemediationEnded(DomainEvent):
    """A follow-up decision cleared a finding, or replaced its schedule with a new deadline."""

    type: Literal["RemediationEnded"] = "RemediationEnded"
    diarienummer: str
    finding_index: int
    outcome: Literal["avhjalpt", "kvarstar"]
    by_decision: str


class TaskClosed(DomainEvent):
    """An open task that no longer needs doing, and why."""

    type: Literal["TaskClosed"] = "TaskClosed"
    task_key: str
    reason: str


class TaskReopened(DomainEvent):
    """A completed task to be done again, with a new deadline: its decision was annulled on appeal."""

    type: Literal["TaskReopened"] = "TaskReopened"
    task_key: str
    due_at: datetime | None
    reason: str


class InspectionCompared(DomainEvent):
    type: Literal["InspectionCompared"] = "InspectionCompared"
    diarienummer: str
    items: list[ComparisonItem]


class PilotCompleted(DomainEvent):
    type: Literal["PilotCompleted"] = "PilotCompleted"


class PilotPaused(DomainEvent):
    """Operations held the pilot: no reminder, escalation or other timer acts, and no answer is taken, until resumed."""

    type: Literal["PilotPaused"] = "PilotPaused"
    reason: str
    by: str


class PilotResumed(DomainEvent):
    """The hold is lifted: what fell due meanwhile happens now."""

    type: Literal["PilotResumed"] = "PilotResumed"
    reason: str
    by: str


class PilotWithdrawn(DomainEvent):
    """The municipality left the programme; its open tasks are closed (TaskClosed) and their holders told."""

    type: Literal["PilotWithdrawn"] = "PilotWithdrawn"
    reason: str
    by: str


class StepFailed(DomainEvent):
    """A step (a mail, a Kolada fetch) failed in a way retrying cannot fix: it waits for operations to retry it,
    while the rest of the pilot goes on."""

    type: Literal["StepFailed"] = "StepFailed"
    step: str = Field(description="e.g. 'reminder mail: self_assessment@F → p-1861-forvaltningschef'")
    error: str


class FailedStepRetried(DomainEvent):
    """Operations had the pilot try again the steps that had failed for good (a mail, a Kolada fetch)."""

    type: Literal["FailedStepRetried"] = "FailedStepRetried"
    steps: list[str]
    reason: str
    by: str


class PilotTerminated(DomainEvent):
    """The last resort: the workflow was terminated by operations; nothing more happens to the pilot."""

    type: Literal["PilotTerminated"] = "PilotTerminated"
    reason: str
    by: str


class NetworkMeetingScheduled(DomainEvent):
    """A network meeting of the pilot's cohort, scheduled by its lead: the pilot is to bring its contribution."""

    type: Literal["NetworkMeetingScheduled"] = "NetworkMeetingScheduled"
    meeting_id: str
    title: str
    held_at: datetime
    place: str | None = None
    by: str


class NetworkMeetingAttendance(DomainEvent):
    """Whether the pilot took part in a network meeting, and who of its people did (participant ids)."""

    type: Literal["NetworkMeetingAttendance"] = "NetworkMeetingAttendance"
    meeting_id: str
    attended: bool
    attendee_ids: list[str]
    by: str


class ComparisonItem(BaseModel):
    """One success factor and whether the own analysis, the inspection, or both flag it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    factor: str
    classification: Literal["agreed", "inspection_only", "self_only"]
    finding_indexes: list[int] = Field(default_factory=list)


InspectionCompared.model_rebuild()

Event = Annotated[
    PilotStarted
    | PhaseStarted
    | PhaseCompleted
    | TaskOpened
    | ImplementationYearStarted
    | SelfAssessmentsConsolidated
    | TaskReminderSent
    | TaskEscalated
    | TaskReassigned
    | RosterChanged
    | TaskDeadlineExtended
    | TaskCompleted
    | DecisionRecorded
    | DecisionPosted
    | DecisionBecameFinal
    | DecisionAppealed
    | AppealDecided
    | InspectionDecisionRegistered
    | InspectionTrackClosedWithoutDecision
    | RemediationScheduled
    | RemediationEnded
    | TaskClosed
    | TaskReopened
    | InspectionCompared
    | PilotCompleted
    | PilotPaused
    | PilotResumed
    | PilotWithdrawn
    | StepFailed
    | FailedStepRetried
    | PilotTerminated
    | NetworkMeetingScheduled
    | NetworkMeetingAttendance,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


# --- reading stored events: one way, through the upcasters ------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _task_escalated_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    v1 = dict(data)
    lead, managers = v1.pop("recipient_id"), v1.pop("also_to", [])
    recipients = [{"participant_id": lead, "escalated_as": "lead"}]
    recipients += [{"participant_id": manager, "escalated_as": "manager"} for manager in managers]
    return v1 | {"recipients": recipients}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("TaskEscalated", 1): _task_escalated_1_to_2,
}
"""(event type, version) -> what turns a stored event's data of that version into the next version's. The record is
permanent and never rewritten: an event whose shape changes gets a new version, and its upcaster here, so that
every reader (`upcast`, `event_from_record`) still reads what was stored under the old one."""

CURRENT_VERSIONS: dict[str, int] = {
    member.model_fields["type"].default: member.model_fields["schema_version"].default
    for member in get_args(get_args(Event)[0])
}
"""The version each event type is written in today."""


def upcast(event_type: str, schema_version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A stored event's data as its current version has it, with that version; an event of a type Leda does not
    write, or from a version later than it knows, is left as it is (its reader refuses it)."""
    current = CURRENT_VERSIONS.get(event_type, schema_version)
    while schema_version < current:
        step = UPCASTERS.get((event_type, schema_version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} version {schema_version}")
        data, schema_version = step(data), schema_version + 1
    return schema_version, data


class StoredRow(Protocol):
    """A stored event's columns, as the event store reads them back."""

    @property
    def event_type(self) -> str: ...
    @property
    def event_id(self) -> UUID: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def data(self) -> dict[str, Any]: ...


def event_of(stored: StoredRow) -> Event:
    """The domain event a stored row holds, in its current version: what every reader of a pilot's record uses."""
    return event_from_record(stored.event_type, stored.event_id, stored.schema_version, stored.data)


def event_from_record(event_type: str, event_id: UUID, schema_version: int, data: dict[str, Any]) -> Event:
    """Rebuild a domain event from its stored columns (the inverse of `event_record`), upcast to its current
    version: the one way a stored pilot event becomes a domain event."""
    version, current = upcast(event_type, schema_version, data)
    return EVENT_ADAPTER.validate_python(
        {**current, "type": event_type, "event_id": event_id, "schema_version": version}
    )


def event_record(event: Event | DirectoryEvent) -> tuple[str, int, dict[str, Any]]:
    """The (type, schema_version, data) an event is stored as; event id and type live in their own columns."""
    data = event.model_dump(mode="json", exclude={"type", "event_id", "schema_version"})
    return event.type, event.schema_version, data


# --- the directory's events ------------------------------------------------------------------------------


class ParticipantErased(DomainEvent):
    """A person's name and e-mail address were erased from the directory, at their request (GDPR art. 17).

    Recorded in the directory's own stream, never a pilot's, so it is not one of `Event` (what happens to a
    pilot): pilot folds and timelines never meet it. The participant id stays in the log as a pseudonym that
    no longer leads to anyone; ``reason`` says which request (a case number), never who made it.
    """

    type: Literal["ParticipantErased"] = "ParticipantErased"
    participant_id: str
    reason: str
    by: str


DirectoryEvent = ParticipantErased
"""What happens to the participant directory (one kind so far)."""
