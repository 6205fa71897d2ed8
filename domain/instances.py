"""Task instances: which concrete tasks a template task becomes for one pilot, and who gets each."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.moments import OFFICE_DAY_END, end_of_office_day
from domain.roles import LEVEL_ROLE_GROUPS, LEVEL_ROLES, Role
from domain.rulebook import CURRENT_RULES, Rulebook
from domain.state import MunicipalityState
from domain.template import Repeat, TaskTemplate

CHANGE_PROJECT_ROLES: tuple[Role, ...] = (Role.POLITIKER, Role.FORVALTNINGSCHEF, Role.REKTOR, Role.HR, Role.EKONOMI)
"""Programme participants, each of whom runs a förändringsprojekt (each participant, whatever their role)."""


class TaskInstance(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    template_key: str
    assignee_id: str
    level: str | None = None
    year: int | None = None
    subject: str | None = None
    owner_role: Role | None = Field(default=None, description="the role whose task it is")
    due_at: datetime | None = Field(default=None, description="a due date of its own, not due_after the opening")
    reckoned_from: datetime | None = Field(
        default=None, description="when `due_at` was set by the calendar: shortened from then on a demo's clock"
    )


def _due_on(day: date, rules: Rulebook) -> datetime:
    """A step due on a calendar date (remediation, posting a decision) is due at the end of that office day."""
    if rules.office_day_in_swedish_time:
        return end_of_office_day(day)
    return datetime.combine(day, OFFICE_DAY_END, tzinfo=UTC)


def template_key_of(task_key: str) -> str:
    """'self_assessment@P' -> 'self_assessment'."""
    return task_key.split("@", 1)[0]


def instances_of(
    task: TaskTemplate, state: MunicipalityState, *, year: int | None = None, rules: Rulebook = CURRENT_RULES
) -> list[TaskInstance]:
    """The instances `task` has in `state`; yearly tasks for `year` (default: the current implementation year)."""
    if task.only_if is not None and not _condition_holds(task.only_if, state, year):
        return []
    match task.repeat:
        case Repeat.ONCE:
            return [
                TaskInstance(
                    key=task.key,
                    template_key=task.key,
                    assignee_id=state.primary(task.owner_role),
                    owner_role=task.owner_role,
                )
            ]
        case Repeat.PER_FINDING:
            return [
                TaskInstance(
                    key=f"{task.key}@{schedule.diarienummer}#{schedule.finding_index + 1}/{step.key}",
                    template_key=task.key,
                    assignee_id=state.primary(step.owner_role),
                    subject=f"{schedule.diarienummer} #{schedule.finding_index + 1}: {step.title_sv}",
                    owner_role=step.owner_role,
                    due_at=_due_on(step.due, rules),
                    reckoned_from=schedule.occurred_at,
                )
                for schedule in state.remediation.values()
                for step in schedule.steps
            ]
        case Repeat.PER_DECISION:
            return [
                TaskInstance(
                    key=f"{task.key}@{decision.key}",
                    template_key=task.key,
                    assignee_id=state.primary(task.owner_role),
                    subject=f"{decision.organ} § {decision.paragraph}, {decision.diarienummer}",
                    owner_role=task.owner_role,
                    due_at=_due_on(decision.anslag_due, rules),
                    reckoned_from=decision.occurred_at,
                )
                for decision in state.decisions
                if decision.key not in state.annulled_decisions  # annulled before its minutes were posted
            ]
        case Repeat.PER_LEVEL if rules.every_assessor:
            return [instance for level in LEVEL_ROLE_GROUPS for instance in _assessors(task, state, level)]
        case Repeat.PER_LEVEL:
            return [
                TaskInstance(
                    key=f"{task.key}@{level}",
                    template_key=task.key,
                    assignee_id=state.participants[role][0],
                    level=level,
                    owner_role=role,
                )
                for level, role in LEVEL_ROLES.items()
                if state.participants.get(role)
            ]
    y = state.implementation_year if year is None else year
    if y < 1:
        return []
    match task.repeat:
        case Repeat.PER_YEAR:
            return [
                TaskInstance(
                    key=f"{task.key}@y{y}",
                    template_key=task.key,
                    assignee_id=state.primary(task.owner_role),
                    year=y,
                    owner_role=task.owner_role,
                )
            ]
        case Repeat.PER_MEASURE:
            return [
                TaskInstance(
                    key=f"{task.key}@y{y}/{m.id}",
                    template_key=task.key,
                    assignee_id=state.primary(m.owner_role),
                    year=y,
                    subject=m.id,
                    owner_role=m.owner_role,
                )
                for m in state.plan_measures(year=y)
            ]
        case Repeat.PER_CHANGE_PROJECT:
            holders = {  # one project per person, whatever roles they hold: the first of them is the project's
                pid: role for role in reversed(CHANGE_PROJECT_ROLES) for pid in state.participants.get(role, [])
            }
            return [
                TaskInstance(
                    key=f"{task.key}@y{y}/{pid}",
                    template_key=task.key,
                    assignee_id=pid,
                    year=y,
                    subject=pid,
                    owner_role=holders[pid],
                )
                for pid in dict.fromkeys(
                    pid for role in CHANGE_PROJECT_ROLES for pid in state.participants.get(role, [])
                )
            ]
    raise AssertionError(f"unhandled repeat {task.repeat}")


def _assessors(task: TaskTemplate, state: MunicipalityState, level: str) -> list[TaskInstance]:
    """One instance of a level's task for every holder of the level's roles: those opened so far, as they are, and
    one more for each holder none of them is for (a rektor who joined, say).

    An instance is for whom it was opened for, whoever holds it now (a stand-in, or a newcomer who took a leaver's
    place). The level's first instance keeps the key of one instance per level, `<task>@<level>`; the others are
    `<task>@<level>/<participant id>`.
    """
    opened = [t for t in state.tasks.values() if t.template_key == task.key and t.level == level]
    covered = {p for t in opened for p in (t.opened_for, t.assignee_id, t.completed_by, t.delegated_from) if p}
    instances = [
        TaskInstance(
            key=t.key,
            template_key=task.key,
            assignee_id=t.assignee_id,
            level=level,
            owner_role=t.owner_role,
        )
        for t in opened
    ]
    for role in LEVEL_ROLE_GROUPS[level]:
        for pid in state.participants.get(role, []):
            if pid in covered:
                continue
            covered.add(pid)
            first = f"{task.key}@{level}"
            key = first if first not in state.tasks and not instances else f"{first}/{pid}"
            instances.append(
                TaskInstance(key=key, template_key=task.key, assignee_id=pid, level=level, owner_role=role)
            )
    return instances


def _condition_holds(condition: str, state: MunicipalityState, year: int | None) -> bool:
    """'ska_planning.plan_revision_needed': that task's answer (the same year's, when it is yearly) says so."""
    task_key, field = condition.split(".", 1)
    y = state.implementation_year if year is None else year
    answer = state.completed_payload(f"{task_key}@y{y}") or state.completed_payload(task_key)
    return bool(answer and answer.get(field))


def all_done(
    task: TaskTemplate, state: MunicipalityState, *, year: int | None = None, rules: Rulebook = CURRENT_RULES
) -> bool:
    """Whether every instance of `task` (for `year`, when it is yearly) is completed."""
    return all(state.is_completed(i.key) for i in instances_of(task, state, year=year, rules=rules))


LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "P": ("politik", "politics"),
    "F": ("förvaltning", "administration"),
    "R": ("rektorer", "principals"),
    "S": ("stödfunktioner", "support functions"),
}


def instance_title(
    title: str, *, level: str | None, year: int | None, subject: str | None, english: bool = False
) -> str:
    """A template title qualified for one instance: 'Självskattning … (förvaltning)', '… år 2, M1.1'."""
    parts = []
    if level is not None:
        parts.append(LEVEL_NAMES[level][1 if english else 0])
    if year is not None:
        parts.append(f"{'year' if english else 'år'} {year}")
    if subject is not None:
        parts.append(subject)
    return f"{title} ({', '.join(parts)})" if parts else title
