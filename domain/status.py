"""What a pilot's status shows: its phases, its tasks and their holders, its decisions, what it waits for and what
failed. Made from the pilot's state and its template alone, so the workflow's query, the record's reader and every
edge show the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.appeals import DecisionStanding, decision_standings
from domain.events import ComparisonItem, PilotPaused, PilotWithdrawn
from domain.follow_up import follow_up_prefill
from domain.instances import instance_title
from domain.phases import PHASE_TITLES, Phase
from domain.state import MunicipalityState, NetworkMeeting, TaskState, TaskStatus
from domain.template import ProgrammeTemplate
from domain.waiting import Waiting, waiting_for


class FailedStep(BaseModel):
    """A step (a mail, a Kolada fetch) that failed in a way retrying cannot fix; it waits for operations."""

    step: str = Field(description="e.g. 'reminder mail: self_assessment@F'")
    error: str
    failed_at: datetime


class TaskView(BaseModel):
    key: str
    template_key: str
    level: str | None
    year: int | None
    subject: str | None
    title_sv: str
    title_en: str
    phase: Phase
    status: TaskStatus
    assignee_id: str
    opened_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    reminders_sent: int
    escalated: bool
    escalated_to: list[str] = Field(default_factory=list, description="whom it was escalated to: lead, line manager")
    automated: bool
    reopened: int = Field(default=0, description="times the task was reopened (its decision annulled on appeal)")
    prefill: dict[str, Any] | None = Field(
        default=None,
        description="what the system already has of the open task's answer (a yearly follow-up's figures gathered "
        "from Kolada): start from it; a value changed needs its reason. None when there is nothing.",
    )

    @classmethod
    def of(cls, template: ProgrammeTemplate, state: MunicipalityState, task: TaskState) -> TaskView:
        """The view of one task of `state`, a pilot on `template`."""
        task_template = template.task(task.template_key)
        return cls(
            key=task.key,
            template_key=task.template_key,
            level=task.level,
            year=task.year,
            subject=task.subject,
            title_sv=instance_title(task_template.title_sv, level=task.level, year=task.year, subject=task.subject),
            title_en=instance_title(
                task_template.title_en, level=task.level, year=task.year, subject=task.subject, english=True
            ),
            phase=task.phase,
            status=task.status,
            assignee_id=task.assignee_id,
            opened_at=task.opened_at,
            due_at=task.due_at,
            completed_at=task.completed_at,
            completed_by=task.completed_by,
            reminders_sent=task.reminders_sent,
            escalated=task.escalated,
            escalated_to=list(task.escalated_to),
            automated=task_template.automation is not None,
            reopened=task.reopened,
            prefill=follow_up_prefill(state, task.key) if task.status is TaskStatus.OPEN else None,
        )


class PilotStatus(BaseModel):
    workflow_id: str
    programme: str
    kommunkod: str
    municipality_name: str
    template_key: str
    deciding_organ: str
    current_phase: Phase | None
    current_phase_title_sv: str | None
    active_phases: list[Phase]
    completed_phases: list[Phase]
    implementation_year: int
    plan_years: int
    tasks: list[TaskView]
    decisions: list[DecisionStanding] = Field(description="the nämnd's decisions: dates, status and appeals")
    inspections: list[str]
    inspection_closed_without_decision: datetime | None = Field(
        default=None, description="when the inspection track closed with no Skolinspektionen decision registered"
    )
    comparisons: dict[str, list[ComparisonItem]]
    completed_at: datetime | None
    stream_version: int
    waiting_for: list[Waiting] = Field(
        default_factory=list, description="what the pilot waits for, and until when; 'ended' once it has ended"
    )
    paused: PilotPaused | None = Field(default=None, description="the hold in force, if operations paused the pilot")
    withdrawn: PilotWithdrawn | None = None
    failed_steps: list[FailedStep] = Field(
        default_factory=list, description="steps that failed for good and wait for operations to retry them"
    )
    meetings: list[NetworkMeeting] = Field(
        default_factory=list, description="the cohort's network meetings, and whether the pilot attended each"
    )

    def task(self, key: str) -> TaskView | None:
        """The task instance with this key, if it has opened."""
        return next((t for t in self.tasks if t.key == key), None)

    @classmethod
    def of(cls, workflow_id: str, template: ProgrammeTemplate, state: MunicipalityState) -> PilotStatus:
        phase = state.current_main_phase
        return cls(
            workflow_id=workflow_id,
            programme=state.programme,
            kommunkod=state.kommunkod,
            municipality_name=state.municipality_name,
            template_key=state.template_key,
            deciding_organ=state.deciding_organ,
            current_phase=phase,
            current_phase_title_sv=PHASE_TITLES[phase][0] if phase else None,
            active_phases=list(state.active_phases),
            completed_phases=list(state.completed_phases),
            implementation_year=state.implementation_year,
            plan_years=state.plan_years,
            tasks=[TaskView.of(template, state, t) for t in state.tasks.values()],
            decisions=decision_standings(state),
            inspections=list(state.inspections),
            inspection_closed_without_decision=state.inspection_closed_without_decision,
            comparisons=dict(state.comparisons),
            completed_at=state.completed_at,
            stream_version=state.version,
            paused=state.paused,
            withdrawn=state.withdrawn,
            failed_steps=[
                FailedStep(step=f.step, error=f.error, failed_at=f.occurred_at) for f in state.failed_steps.values()
            ],
            waiting_for=waiting_for(template, state),
            meetings=sorted(state.meetings.values(), key=lambda m: m.held_at),
        )
