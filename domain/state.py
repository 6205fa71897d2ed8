"""A pilot's state as the fold of its events: the workflow and every reader agree because both fold."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.events import (
    ComparisonItem,
    DecisionRecorded,
    Event,
    InspectionCompared,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    TaskCompleted,
    TaskEscalated,
    TaskOpened,
    TaskReminderSent,
)
from domain.phases import Phase
from domain.roles import Role


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"


class TaskState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    phase: Phase
    status: TaskStatus
    assignee_id: str
    opened_at: datetime
    due_at: datetime | None
    completed_at: datetime | None = None
    completed_by: str | None = None
    payload: dict[str, object] | None = None
    reminders_sent: int = 0
    escalated: bool = False


class MunicipalityState(BaseModel):
    """Everything the rules need to know about one pilot."""

    model_config = ConfigDict(extra="forbid")

    programme: str = ""
    kommunkod: str = ""
    municipality_name: str = ""
    template_key: str = ""
    assignees: dict[Role, str] = Field(default_factory=dict)
    started_at: datetime | None = None
    active_phases: list[Phase] = Field(default_factory=list)
    completed_phases: list[Phase] = Field(default_factory=list)
    tasks: dict[str, TaskState] = Field(default_factory=dict)
    decisions: list[DecisionRecorded] = Field(default_factory=list)
    comparison: list[ComparisonItem] | None = None
    completed_at: datetime | None = None
    version: int = 0

    @property
    def current_main_phase(self) -> Phase | None:
        main = [p for p in self.active_phases if p is not Phase.INSPECTION_COMPARISON]
        return main[0] if main else None

    def is_completed(self, task_key: str) -> bool:
        task = self.tasks.get(task_key)
        return task is not None and task.status is TaskStatus.COMPLETED

    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.OPEN]


def apply(state: MunicipalityState, event: Event) -> MunicipalityState:
    """The state after `event`; `state` itself is left untouched."""
    s = state.model_copy(deep=True)
    s.version += 1
    match event:
        case PilotStarted():
            s.programme, s.kommunkod = event.programme, event.kommunkod
            s.municipality_name, s.template_key = event.municipality_name, event.template_key
            s.assignees = dict(event.assignees)
            s.started_at = event.occurred_at
        case PhaseStarted():
            if event.phase not in s.active_phases:
                s.active_phases.append(event.phase)
        case PhaseCompleted():
            s.active_phases = [p for p in s.active_phases if p is not event.phase]
            s.completed_phases.append(event.phase)
        case TaskOpened():
            s.tasks[event.task_key] = TaskState(
                key=event.task_key,
                phase=event.phase,
                status=TaskStatus.OPEN,
                assignee_id=event.assignee_id,
                opened_at=event.occurred_at,
                due_at=event.due_at,
            )
        case TaskReminderSent():
            s.tasks[event.task_key].reminders_sent += 1
        case TaskEscalated():
            s.tasks[event.task_key].escalated = True
        case TaskCompleted():
            task = s.tasks[event.task_key]
            task.status = TaskStatus.COMPLETED
            task.completed_at, task.completed_by = event.occurred_at, event.completed_by
            task.payload = dict(event.payload)
        case DecisionRecorded():
            s.decisions.append(event)
        case InspectionCompared():
            s.comparison = list(event.items)
        case PilotCompleted():
            s.completed_at = event.occurred_at
    return s


def fold(events: Iterable[Event], state: MunicipalityState | None = None) -> MunicipalityState:
    """Fold events, oldest first, into a state."""
    current = state or MunicipalityState()
    for event in events:
        current = apply(current, event)
    return current
