"""A pilot's state as the fold of its events: the workflow and every reader agree because both fold."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import SchoolCalendar
from domain.consolidation import Consolidation
from domain.events import (
    AppealDecided,
    AppealOutcome,
    ComparisonItem,
    DecisionAppealed,
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    Event,
    FailedStepRetried,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionDecisionRegistered,
    InspectionTrackClosedWithoutDecision,
    NetworkMeetingAttendance,
    NetworkMeetingScheduled,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotPaused,
    PilotResumed,
    PilotStarted,
    PilotTerminated,
    PilotWithdrawn,
    RemediationEnded,
    RemediationScheduled,
    RosterChanged,
    SelfAssessmentsConsolidated,
    StepFailed,
    TaskClosed,
    TaskCompleted,
    TaskDeadlineExtended,
    TaskEscalated,
    TaskOpened,
    TaskReassigned,
    TaskReminderSent,
    TaskReopened,
)
from domain.payloads import PlanDraft, PlanRevision
from domain.phases import MAIN_TRACK, Phase
from domain.roles import MANAGER_ROLE, MANAGER_ROLE_FIRST_EDITION, Role
from domain.task_keys import PLAN_DRAFT, PLAN_REVISION


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CLOSED = "closed"  # no longer needed, e.g. a remediation step whose deficiency was cleared


class TaskState(BaseModel):
    """One task instance: `key` is the template key, qualified by level, year or subject when it repeats."""

    model_config = ConfigDict(extra="forbid")

    key: str
    template_key: str
    phase: Phase
    status: TaskStatus
    assignee_id: str
    opened_at: datetime
    due_at: datetime | None
    opened_for: str | None = Field(default=None, description="whom it was assigned to when it opened")
    level: str | None = None
    year: int | None = None
    subject: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    payload: dict[str, object] | None = None
    closed_reason: str | None = None
    delegated_from: str | None = Field(default=None, description="whose task it is while a delegate holds it")
    reminders_sent: int = 0
    escalated: bool = False
    escalated_to: list[str] = Field(default_factory=list, description="whom it was escalated to: lead, line manager")
    owner_role: Role | None = Field(
        default=None, description="the role whose task it is; None if opened before 2026-12"
    )
    reopened: int = Field(default=0, description="times it was reopened, its decision annulled on appeal")


class Appeal(BaseModel):
    """An appeal of a nämnd decision to the court, and the court's outcome once there is one."""

    model_config = ConfigDict(frozen=True)

    court: str
    case_number: str
    lodged_on: date
    recorded_at: datetime
    outcome: AppealOutcome | None = None
    decided_on: date | None = None
    outcome_recorded_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.outcome is None


class NetworkMeeting(BaseModel):
    """A network meeting of the pilot's cohort, as far as this pilot is concerned."""

    model_config = ConfigDict(frozen=True)

    meeting_id: str
    title: str
    held_at: datetime
    place: str | None = None
    scheduled_at: datetime
    attended: bool | None = Field(default=None, description="None until the lead records the attendance")
    attendee_ids: list[str] = Field(default_factory=list)


class PlanMeasure(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    owner_role: Role
    goal_index: int


class MunicipalityState(BaseModel):
    """Everything the rules need to know about one pilot."""

    model_config = ConfigDict(extra="forbid")

    programme: str = ""
    kommunkod: str = ""
    municipality_name: str = ""
    template_key: str = ""
    deciding_organ: str = ""
    participants: dict[Role, list[str]] = Field(default_factory=dict)
    managers: dict[str, str] = Field(default_factory=dict, description="participant id -> their line manager's")
    calendar: SchoolCalendar | None = None
    started_at: datetime | None = None
    active_phases: list[Phase] = Field(default_factory=list)
    completed_phases: list[Phase] = Field(default_factory=list)
    tasks: dict[str, TaskState] = Field(default_factory=dict)
    implementation_year: int = 0
    implementation_year_started_at: datetime | None = None
    implementation_year_starts: dict[int, datetime] = Field(default_factory=dict)
    decisions: list[DecisionRecorded] = Field(default_factory=list)
    postings: dict[str, DecisionPosted] = Field(default_factory=dict, description="by the decision's task key")
    final_decisions: list[str] = Field(default_factory=list)
    appeals: dict[str, list[Appeal]] = Field(default_factory=dict, description="by the decision's key")
    annulled_decisions: list[str] = Field(default_factory=list, description="keys of decisions a court annulled")
    inspections: dict[str, InspectionDecisionRegistered] = Field(default_factory=dict)
    inspection_closed_without_decision: datetime | None = Field(
        default=None, description="when the inspection track closed with no decision registered in the programme"
    )
    remediation: dict[str, RemediationScheduled] = Field(
        default_factory=dict, description="active schedules by '<diarienummer>#<finding index>'"
    )
    comparisons: dict[str, list[ComparisonItem]] = Field(default_factory=dict)
    consolidation: Consolidation | None = None
    completed_at: datetime | None = None
    paused: PilotPaused | None = Field(default=None, description="the hold in force, if operations paused the pilot")
    withdrawn: PilotWithdrawn | None = None
    terminated: PilotTerminated | None = None
    failed_steps: dict[str, StepFailed] = Field(
        default_factory=dict, description="steps that failed for good and wait for a retry, by step"
    )
    meetings: dict[str, NetworkMeeting] = Field(default_factory=dict, description="the cohort's, by meeting id")
    version: int = 0

    @property
    def ended(self) -> bool:
        """Completed, withdrawn or terminated: nothing more happens to the pilot."""
        return self.completed_at is not None or self.withdrawn is not None or self.terminated is not None

    @property
    def current_main_phase(self) -> Phase | None:
        main = [p for p in self.active_phases if p in MAIN_TRACK]
        return main[0] if main else None

    def is_completed(self, task_key: str) -> bool:
        task = self.tasks.get(task_key)
        return task is not None and task.status is TaskStatus.COMPLETED

    def is_settled(self, task_key: str) -> bool:
        """Completed, or closed as no longer needed."""
        task = self.tasks.get(task_key)
        return task is not None and task.status is not TaskStatus.OPEN

    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.OPEN]

    def primary(self, role: Role) -> str:
        """Who gets a task owned by `role`: its first participant, else the programme lead."""
        holders = self.participants.get(role) or self.participants[Role.PROGRAMLEDARE]
        return holders[0]

    def escalation_recipients(self, assignee_id: str, *, by_line_manager: bool = True) -> list[str]:
        """The programme lead, and the holder's line manager: the one the directory names, else the first holder of
        the manager's role for the holder's role (domain.roles.MANAGER_ROLE). `by_line_manager=False` is how runs
        that began before December 2026 escalate: by role alone, a förvaltningschef to the nämnd's chair."""
        recipients = [self.primary(Role.PROGRAMLEDARE)]
        managers = MANAGER_ROLE if by_line_manager else MANAGER_ROLE_FIRST_EDITION
        named = self.managers.get(assignee_id) if by_line_manager else None
        if named is not None:
            candidates = [named]
        else:
            candidates = [
                self.participants[managers[role]][0]
                for role, holders in self.participants.items()
                if assignee_id in holders and role in managers and self.participants.get(managers[role])
            ]
        for manager in candidates:
            if manager not in (*recipients, assignee_id):
                recipients.append(manager)
        return recipients

    def decision(self, key: str) -> DecisionRecorded | None:
        """The nämnd decision named `key` (its task's key, or '<task key>/<n>' for a later decision of a task)."""
        return next((d for d in self.decisions if d.key == key), None)

    def appeal_pending(self, key: str) -> bool:
        return any(a.pending for a in self.appeals.get(key, []))

    def completed_payload(self, task_key: str) -> dict[str, object] | None:
        task = self.tasks.get(task_key)
        return task.payload if task is not None and task.status is TaskStatus.COMPLETED else None

    def current_plan(self, *, year: int | None = None) -> PlanDraft | None:
        """The plan in force (in `year`): the latest revision the nämnd adopted by then, else the drafted plan."""
        revisions = sorted(
            (
                t
                for t in self.tasks.values()
                if t.template_key == PLAN_REVISION
                and t.status is TaskStatus.COMPLETED
                and (year is None or (t.year or 0) <= year)
            ),
            key=lambda t: t.year or 0,
        )
        if revisions:
            return PlanRevision.model_validate(revisions[-1].payload).revised_plan
        plan = self.completed_payload(PLAN_DRAFT)
        return PlanDraft.model_validate(plan) if plan else None

    @property
    def plan_years(self) -> int:
        """The years the plan in force runs; 0 until the plan is drafted."""
        plan = self.current_plan()
        return plan.period_years if plan else 0

    def plan_measures(self, *, year: int | None = None) -> list[PlanMeasure]:
        """Every measure of the plan in force (in `year`), numbered M<goal>.<measure> in the plan's order."""
        plan = self.current_plan(year=year)
        if plan is None:
            return []
        return [
            PlanMeasure(id=f"M{g}.{m}", title=title, owner_role=goal.owner_role, goal_index=g - 1)
            for g, goal in enumerate(plan.goals, start=1)
            for m, title in enumerate(goal.measures, start=1)
        ]


def apply(state: MunicipalityState, event: Event) -> MunicipalityState:
    """The state after `event`; `state` itself is left untouched."""
    return fold([event], state)


def _apply_in_place(s: MunicipalityState, event: Event) -> None:
    s.version += 1
    match event:
        case PilotStarted():
            s.programme, s.kommunkod = event.programme, event.kommunkod
            s.municipality_name, s.template_key = event.municipality_name, event.template_key
            s.deciding_organ = event.deciding_organ
            s.participants = {role: list(ids) for role, ids in event.participants.items()}
            s.managers = dict(event.managers)
            s.calendar = event.calendar
            s.started_at = event.occurred_at
        case PhaseStarted():
            if event.phase not in s.active_phases:
                s.active_phases.append(event.phase)
            # A track started again (decisions followed up anew after an appeal) is no longer completed.
            s.completed_phases = [p for p in s.completed_phases if p is not event.phase]
        case PhaseCompleted():
            s.active_phases = [p for p in s.active_phases if p is not event.phase]
            s.completed_phases.append(event.phase)
        case TaskOpened():
            s.tasks[event.task_key] = TaskState(
                key=event.task_key,
                template_key=event.template_key,
                phase=event.phase,
                status=TaskStatus.OPEN,
                assignee_id=event.assignee_id,
                opened_for=event.assignee_id,
                opened_at=event.occurred_at,
                due_at=event.due_at,
                level=event.level,
                year=event.year,
                subject=event.subject,
                owner_role=event.owner_role,
            )
        case ImplementationYearStarted():
            s.implementation_year = event.year
            s.implementation_year_started_at = event.occurred_at
            s.implementation_year_starts[event.year] = event.occurred_at
        case TaskReminderSent():
            _own_task(s, event.task_key).reminders_sent += 1
        case TaskEscalated():
            task = _own_task(s, event.task_key)
            task.escalated, task.escalated_to = True, [r.participant_id for r in event.recipients]
        case TaskReassigned():
            task = _own_task(s, event.task_key)
            task.assignee_id = event.to_participant
            task.delegated_from = event.from_participant if event.kind in ("delegate", "stand_in") else None
        case RosterChanged():
            holders = s.participants.setdefault(event.role, [])
            if event.leaving in holders and event.joining is not None:
                holders[holders.index(event.leaving)] = event.joining  # the newcomer takes the leaver's place
            else:
                if event.leaving in holders:
                    holders.remove(event.leaving)
                if event.joining is not None:
                    holders.append(event.joining)
            if not holders:
                del s.participants[event.role]
            if event.joining is not None and event.joining_manager is not None:
                s.managers[event.joining] = event.joining_manager
        case TaskDeadlineExtended():
            task = _own_task(s, event.task_key)
            # A new deadline starts a new round of reminders, and a new chance to escalate.
            task.due_at, task.reminders_sent, task.escalated = event.due_at, 0, False
        case TaskCompleted():
            task = _own_task(s, event.task_key)
            task.status = TaskStatus.COMPLETED
            task.completed_at, task.completed_by = event.occurred_at, event.completed_by
            task.payload = dict(event.payload)
        case DecisionRecorded():
            s.decisions.append(event)
        case SelfAssessmentsConsolidated():
            s.consolidation = event.consolidation
        case DecisionPosted():
            s.postings[event.decision_task_key] = event
        case DecisionBecameFinal():
            s.final_decisions.append(event.decision_task_key)
        case DecisionAppealed():
            appeal = Appeal(
                court=event.court,
                case_number=event.case_number,
                lodged_on=event.lodged_on,
                recorded_at=event.occurred_at,
            )
            s.appeals[event.decision_key] = [*s.appeals.get(event.decision_key, []), appeal]
            # Lodged in time, it stops the decision becoming final, even if the lodging was learnt of later.
            s.final_decisions = [k for k in s.final_decisions if k != event.decision_key]
        case AppealDecided():
            s.appeals[event.decision_key] = [
                a.model_copy(
                    update={
                        "outcome": event.outcome,
                        "decided_on": event.decided_on,
                        "outcome_recorded_at": event.occurred_at,
                    }
                )
                if a.case_number == event.case_number and a.pending
                else a
                for a in s.appeals.get(event.decision_key, [])
            ]
            if event.outcome == "upphavt":
                s.annulled_decisions.append(event.decision_key)
        case InspectionDecisionRegistered():
            s.inspections[event.diarienummer] = event
        case InspectionTrackClosedWithoutDecision():
            s.inspection_closed_without_decision = event.occurred_at
        case RemediationScheduled():
            s.remediation[f"{event.diarienummer}#{event.finding_index}"] = event
        case RemediationEnded():
            s.remediation.pop(f"{event.diarienummer}#{event.finding_index}", None)
        case TaskClosed():
            task = _own_task(s, event.task_key)
            task.status, task.closed_reason = TaskStatus.CLOSED, event.reason
        case TaskReopened():
            task = _own_task(s, event.task_key)
            task.status, task.due_at, task.reopened = TaskStatus.OPEN, event.due_at, task.reopened + 1
            task.completed_at = task.completed_by = task.payload = None
            task.reminders_sent, task.escalated = 0, False
        case InspectionCompared():
            s.comparisons[event.diarienummer] = list(event.items)
        case PilotCompleted():
            s.completed_at = event.occurred_at
        case PilotPaused():
            s.paused = event
        case PilotResumed():
            s.paused = None
        case PilotWithdrawn():
            s.withdrawn, s.paused = event, None
        case PilotTerminated():
            s.terminated = event
        case StepFailed():
            s.failed_steps[event.step] = event
        case FailedStepRetried():
            for step in event.steps:
                s.failed_steps.pop(step, None)
        case NetworkMeetingScheduled():
            s.meetings[event.meeting_id] = NetworkMeeting(
                meeting_id=event.meeting_id,
                title=event.title,
                held_at=event.held_at,
                place=event.place,
                scheduled_at=event.occurred_at,
            )
        case NetworkMeetingAttendance():
            s.meetings[event.meeting_id] = s.meetings[event.meeting_id].model_copy(
                update={"attended": event.attended, "attendee_ids": list(event.attendee_ids)}
            )


def _own_task(s: MunicipalityState, task_key: str) -> TaskState:
    """The task, copied into `s` before it is changed: the state folded from may share it (see `fold`)."""
    task = s.tasks[task_key] = s.tasks[task_key].model_copy()
    return task


def fold(events: Iterable[Event], state: MunicipalityState | None = None) -> MunicipalityState:
    """Fold events, oldest first, into a state; `state` itself is left untouched."""
    current = _detached(state) if state is not None else MunicipalityState()
    for event in events:
        _apply_in_place(current, event)
    return current


def _detached(state: MunicipalityState) -> MunicipalityState:
    """A copy of `state` with lists and dicts of its own, sharing what is in them.

    `_apply_in_place` only adds to, removes from or replaces in these containers, and copies a task before
    changing it (`_own_task`), so sharing the rest cannot change `state`. A deep copy of the whole state per
    batch, which grows with every year of the pilot, was a sixth of a busy worker's CPU (BENCHMARKS.md).
    """
    return state.model_copy(update={name: copy.copy(value) for name, value in state if isinstance(value, list | dict)})
