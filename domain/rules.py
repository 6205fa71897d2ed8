"""The programme's rules: what opens next, who may complete what, and what a completion records.

Every function here is pure: the caller passes the clock (`now`) and an id source (`new_id`), so a workflow
can call them deterministically and a test can call them in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from domain.consolidation import AssessmentLevel, Consolidation, consolidate
from domain.events import (
    ComparisonItem,
    DecisionRecorded,
    Event,
    ImplementationYearStarted,
    InspectionCompared,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    SelfAssessmentsConsolidated,
    TaskCompleted,
    TaskOpened,
)
from domain.inspection import AREA_FACTORS
from domain.instances import all_done, instances_of, template_key_of
from domain.payloads import (
    InspectionDecision,
    NamndDecision,
    PlanDraft,
    SelfAssessment,
    StrengthsWeaknesses,
    TaskPayload,
)
from domain.phases import MAIN_TRACK, PARALLEL_TRACKS, Phase
from domain.roles import Role
from domain.state import MunicipalityState, TaskState, TaskStatus, apply
from domain.template import ProgrammeTemplate

IdSource = Callable[[], UUID]

JUSTERING_WITHIN = timedelta(days=14)
ANSLAG_WITHIN = timedelta(days=2)
APPEAL_PERIOD = timedelta(weeks=3)


class TaskRejected(ValueError):
    """A completion the rules refuse; `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def start_events(
    *,
    programme: str,
    kommunkod: str,
    municipality_name: str,
    deciding_organ: str,
    template: ProgrammeTemplate,
    participants: dict[Role, list[str]],
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    """The events that start a pilot; `advance` then opens its first tasks."""
    missing = sorted(r.value for r in template.roles_needed() if not participants.get(r))
    if missing:
        raise ValueError(f"no participant for the roles {missing}; every role the template uses needs one")
    return [
        PilotStarted(
            event_id=new_id(),
            occurred_at=now,
            programme=programme,
            kommunkod=kommunkod,
            municipality_name=municipality_name,
            template_key=template.key,
            deciding_organ=deciding_organ,
            participants=participants,
        )
    ]


def advance(template: ProgrammeTemplate, state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    """Everything that follows from the current state: phases started or completed, tasks opened."""
    produced: list[Event] = []
    while True:
        step = _next_step(template, state, now=now, new_id=new_id)
        if not step:
            return produced
        for event in step:
            state = apply(state, event)
        produced.extend(step)


def _next_step(
    template: ProgrammeTemplate, state: MunicipalityState, *, now: datetime, new_id: IdSource
) -> list[Event]:
    if state.completed_at is not None:
        return []
    if not state.active_phases and not state.completed_phases:
        return [PhaseStarted(event_id=new_id(), occurred_at=now, phase=p) for p in (MAIN_TRACK[0], *PARALLEL_TRACKS)]

    for phase in state.active_phases:
        if _phase_done(template, state, phase):
            events: list[Event] = [PhaseCompleted(event_id=new_id(), occurred_at=now, phase=phase)]
            following = _following_main_phase(phase)
            if following is not None:
                events.append(PhaseStarted(event_id=new_id(), occurred_at=now, phase=following))
                if following is Phase.IMPLEMENTATION:
                    events.append(ImplementationYearStarted(event_id=new_id(), occurred_at=now, year=1))
            return events

    if state.consolidation is None and template.has_task(SELF_ASSESSMENT):
        assessment = template.task(SELF_ASSESSMENT)
        if any(state.is_completed(i.key) for i in instances_of(assessment, state)) and all_done(assessment, state):
            return [
                SelfAssessmentsConsolidated(
                    event_id=new_id(), occurred_at=now, consolidation=consolidate_self_assessments(state)
                )
            ]

    if (
        state.comparison is None
        and state.is_completed("inspection_decision")
        and state.is_completed("strengths_weaknesses")
    ):
        return [InspectionCompared(event_id=new_id(), occurred_at=now, items=compare_with_inspection(state))]

    openable = [
        (task, instance)
        for task in template.tasks
        if task.phase in state.active_phases
        for instance in instances_of(task, state)
        if instance.key not in state.tasks
        and all(all_done(template.task(dep), state, year=instance.year) for dep in task.depends_on)
    ]
    if openable:
        return [
            TaskOpened(
                event_id=new_id(),
                occurred_at=now,
                task_key=instance.key,
                template_key=task.key,
                phase=task.phase,
                assignee_id=instance.assignee_id,
                due_at=None if task.due_after is None else now + task.due_after,
                level=instance.level,
                year=instance.year,
                subject=instance.subject,
            )
            for task, instance in openable
        ]

    if not state.active_phases:
        return [PilotCompleted(event_id=new_id(), occurred_at=now)]
    return []


def _phase_done(template: ProgrammeTemplate, state: MunicipalityState, phase: Phase) -> bool:
    tasks = template.tasks_in(phase)
    if phase is Phase.IMPLEMENTATION:
        # Done in the plan's last year, once that year's tasks and every task left open from earlier years are.
        return (
            state.implementation_year >= max(state.plan_years, 1)
            and all(all_done(t, state) for t in tasks)
            and all(t.status is TaskStatus.COMPLETED for t in state.tasks.values() if t.phase is phase)
        )
    return all(all_done(t, state) for t in tasks)


def next_year_starts_at(template: ProgrammeTemplate, state: MunicipalityState) -> datetime | None:
    """When the next implementation year begins, if the plan has one left."""
    if Phase.IMPLEMENTATION not in state.active_phases or state.implementation_year_started_at is None:
        return None
    if state.implementation_year >= state.plan_years:
        return None
    return state.implementation_year_started_at + template.year_length


def start_next_year(state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    """The year boundary: the SKA cycle begins again."""
    return [ImplementationYearStarted(event_id=new_id(), occurred_at=now, year=state.implementation_year + 1)]


def _following_main_phase(phase: Phase) -> Phase | None:
    if phase not in MAIN_TRACK:
        return None
    index = MAIN_TRACK.index(phase)
    return MAIN_TRACK[index + 1] if index + 1 < len(MAIN_TRACK) else None


def check_completion(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    task_key: str,
    participant_id: str,
    payload: dict[str, Any],
    *,
    by_system: bool = False,
) -> TaskPayload:
    """The validated payload if `participant_id` may complete `task_key` with it; else TaskRejected."""
    if not template.has_task(template_key_of(task_key)):
        known = ", ".join(t.key for t in template.tasks)
        raise TaskRejected("unknown_task", f"Okänd uppgift / unknown task {task_key!r}; tasks are: {known}")
    task_template = template.task(template_key_of(task_key))
    if task_template.automation is not None and not by_system:
        raise TaskRejected("automated", f"task {task_key!r} is done by the system, not by a participant")
    task = state.tasks.get(task_key)
    if task is None:
        raise TaskRejected(
            "not_open",
            f"Uppgiften är inte öppnad än / task {task_key!r} is not open yet (it waits for others)",
        )
    if task.status is TaskStatus.COMPLETED:
        raise TaskRejected(
            "already_completed",
            f"Uppgiften är redan klar / task {task_key!r} was already completed by {task.completed_by} "
            f"at {task.completed_at:%Y-%m-%d %H:%M:%S}",
        )
    if not by_system and participant_id != task.assignee_id:
        raise TaskRejected(
            "not_assignee",
            f"Du är inte tilldelad uppgiften / participant {participant_id!r} is not the assignee of "
            f"{task_key!r} (assigned to {task.assignee_id})",
        )
    try:
        validated = task_template.payload_model.model_validate(payload)
    except ValidationError as error:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {describe(error)}") from None
    problem = _contradiction(state, task, validated)
    if problem is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {problem}")
    return validated


def _contradiction(state: MunicipalityState, task: TaskState, payload: TaskPayload) -> str | None:
    """What in a well-formed payload contradicts the pilot itself (its level, its organ, its analysis)."""
    if isinstance(payload, SelfAssessment) and task.level is not None and payload.level != task.level:
        return f"level: this is the self-assessment of level {task.level}, not {payload.level}"
    if isinstance(payload, NamndDecision) and state.deciding_organ and payload.organ != state.deciding_organ:
        return f"organ: {state.municipality_name}'s deciding organ is {state.deciding_organ}, not {payload.organ}"
    if isinstance(payload, PlanDraft):
        analysis = state.completed_payload("strengths_weaknesses")
        prioritised = set(analysis["prioritised_factors"]) if analysis else set()  # type: ignore[call-overload]
        for index, goal in enumerate(payload.goals):
            if prioritised and goal.addresses_factor not in prioritised:
                return (
                    f"goals.{index}.addresses_factor: {goal.addresses_factor} is not among the prioritised "
                    f"development areas {sorted(prioritised)}"
                )
    return None


def describe(error: ValidationError) -> str:
    """A pydantic error as one line naming each field and why it is wrong."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "(payload)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def completion_events(
    template: ProgrammeTemplate,
    task_key: str,
    participant_id: str,
    payload: TaskPayload,
    *,
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    """What completing a task records: the completion, and the decision when the task is one."""
    events: list[Event] = [
        TaskCompleted(
            event_id=new_id(),
            occurred_at=now,
            task_key=task_key,
            completed_by=participant_id,
            payload=payload.model_dump(mode="json"),
        )
    ]
    if isinstance(payload, NamndDecision):
        justering_due = payload.meeting_date + JUSTERING_WITHIN
        anslag_due = justering_due + ANSLAG_WITHIN
        events.append(
            DecisionRecorded(
                event_id=new_id(),
                occurred_at=now,
                task_key=task_key,
                organ=payload.organ,
                meeting_date=payload.meeting_date,
                paragraph=payload.paragraph,
                diarienummer=payload.diarienummer,
                justering_due=justering_due,
                anslag_due=anslag_due,
                appeal_period_ends_latest=anslag_due + APPEAL_PERIOD,
            )
        )
    return events


SELF_ASSESSMENT = "self_assessment"


def consolidate_self_assessments(state: MunicipalityState) -> Consolidation:
    """Every level's completed self-assessment, consolidated (domain.md §5, scoring model)."""
    scores = {}
    for task in state.tasks.values():
        if task.template_key == SELF_ASSESSMENT and task.status is TaskStatus.COMPLETED:
            answer = SelfAssessment.model_validate(task.payload)
            scores[AssessmentLevel(answer.level)] = answer.scores
    return consolidate(scores)


def compare_with_inspection(state: MunicipalityState) -> list[ComparisonItem]:
    """Classify every success factor flagged by the own analysis, the inspection, or both (domain.md §7.5)."""
    own = StrengthsWeaknesses.model_validate(state.tasks["strengths_weaknesses"].payload)
    decision = InspectionDecision.model_validate(state.tasks["inspection_decision"].payload)
    self_factors = {w.factor for w in own.weaknesses}
    by_factor: dict[str, list[int]] = {}
    for index, finding in enumerate(decision.findings):
        for factor in AREA_FACTORS[finding.area]:
            by_factor.setdefault(factor, []).append(index)
    items = []
    for factor in sorted(self_factors | set(by_factor)):
        if factor in self_factors and factor in by_factor:
            classification = "agreed"
        elif factor in by_factor:
            classification = "inspection_only"
        else:
            classification = "self_only"
        items.append(
            ComparisonItem(factor=factor, classification=classification, finding_indexes=by_factor.get(factor, []))
        )
    return items
