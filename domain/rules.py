"""The programme's rules: what opens next, who may complete what, and what a completion records.

Every function here is pure: the caller passes the clock (`now`) and an id source (`new_id`), so a workflow
can call them deterministically and a test can call them in microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import ValidationError

from domain.calendar import SchoolCalendar, due_at_a_meeting, due_on_a_working_day
from domain.consolidation import AssessmentLevel, Consolidation, consolidate
from domain.decision_dates import decision_timeline
from domain.events import (
    ComparisonItem,
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    Event,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionDecisionRegistered,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    RemediationEnded,
    RemediationScheduled,
    SelfAssessmentsConsolidated,
    TaskClosed,
    TaskCompleted,
    TaskOpened,
)
from domain.inspection import AREA_FACTORS
from domain.instances import all_done, instances_of, template_key_of
from domain.payloads import (
    DecisionPosting,
    InspectionDecision,
    NamndDecision,
    PlanDraft,
    PlanRevision,
    SelfAssessment,
    StrengthsWeaknesses,
    TaskPayload,
)
from domain.phases import MAIN_TRACK, PARALLEL_TRACKS, Phase
from domain.remediation import schedule_backwards
from domain.roles import Role
from domain.state import MunicipalityState, TaskState, TaskStatus, fold
from domain.template import YEARLY, ProgrammeTemplate, Repeat, TaskTemplate

IdSource = Callable[[], UUID]


class TaskRejected(ValueError):
    """A completion the rules refuse; `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


UNRECORDABLE_TEXT = "text may not hold the NUL character (U+0000) or an unpaired surrogate (such as \\ud800)"


def unrecordable_text(value: Any, path: str = "") -> str | None:
    """Where `value` holds text the record cannot keep (the path of the first such string), or None.

    The record is JSON in PostgreSQL: its jsonb refuses the NUL character, and UTF-8 has no encoding for a lone
    surrogate (what a JSON escape such as \\ud800 decodes to). Accepted, such text would fail every attempt to
    append its event, and the pilot would wait for that append for ever.
    """
    if isinstance(value, str):
        unrecordable = "\x00" in value or not value.isascii() and not _encodes_as_utf8(value)
        return (path or "(value)") if unrecordable else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list | tuple) else ()
    for key, item in items:
        name = str(key) if re.fullmatch(r"[\w.@/-]+", str(key)) else ascii(key)  # any other key shown escaped
        where = f"{path}.{name}" if path else name
        if isinstance(key, str) and unrecordable_text(key) is not None:
            return where
        found = unrecordable_text(item, where)
        if found is not None:
            return found
    return None


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_recordable(value: Any) -> None:
    """TaskRejected naming the field, if `value` holds text the record cannot keep (see `unrecordable_text`)."""
    where = unrecordable_text(value)
    if where is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {where}: {UNRECORDABLE_TEXT}")


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
    calendar: SchoolCalendar | None = None,
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
            calendar=calendar,
        )
    ]


def check_not_held(state: MunicipalityState) -> None:
    """Participants' answers and steering wait while operations hold the pilot."""
    if state.paused is not None:
        raise TaskRejected(
            "pilot_paused",
            f"Piloten är pausad / the pilot is paused since {state.paused.occurred_at:%Y-%m-%d %H:%M} "
            f"({state.paused.reason}); try again when it is resumed",
        )


def advance(template: ProgrammeTemplate, state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    """Everything that follows from the current state: phases started or completed, tasks opened."""
    produced: list[Event] = []
    while True:
        step = _next_step(template, state, now=now, new_id=new_id)
        if not step:
            return produced
        state = fold(step, state)
        produced.extend(step)


def _next_step(
    template: ProgrammeTemplate, state: MunicipalityState, *, now: datetime, new_id: IdSource
) -> list[Event]:
    if state.ended:
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

    if state.is_completed("strengths_weaknesses"):
        for diarienummer, registered in state.inspections.items():
            if diarienummer not in state.comparisons and registered.decision.get("follow_up_of") is None:
                items = compare_with_inspection(state, diarienummer)
                return [InspectionCompared(event_id=new_id(), occurred_at=now, diarienummer=diarienummer, items=items)]

    openable = [
        (task, instance)
        for task in template.tasks
        if task.phase in state.active_phases
        for year in _years_of(task, state)
        for instance in instances_of(task, state, year=year)
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
                due_at=instance.due_at or _due(task, state, instance.year, now),
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
    if phase is Phase.DECISION_FOLLOW_UP:
        # Open until the main phases are done and every decision they produced has vunnit laga kraft.
        return (
            all(p in state.completed_phases for p in MAIN_TRACK)
            and all(all_done(t, state) for t in tasks)
            and len(state.final_decisions) == len(state.decisions)
        )
    if phase is Phase.INSPECTION_COMPARISON:
        # Decisions can arrive in any phase, so the track stays open until the programme's main phases are
        # done, at least one decision has been registered, and every remediation step is settled.
        return (
            all(p in state.completed_phases for p in MAIN_TRACK)
            and bool(state.inspections)
            and all(state.is_settled(t.key) for t in state.tasks.values() if t.phase is phase)
            and all(all_done(t, state) for t in tasks if t.repeat is not Repeat.PER_FINDING)
        )
    if phase is Phase.IMPLEMENTATION:
        # Done in the plan's last year, once every year's tasks are (a year's work may run past its end).
        return (
            state.implementation_year >= max(state.plan_years, 1)
            and all(all_done(t, state, year=y) for t in tasks for y in _years_of(t, state))
            and all(t.status is TaskStatus.COMPLETED for t in state.tasks.values() if t.phase is phase)
        )
    return all(all_done(t, state) for t in tasks)


def _due(task: TaskTemplate, state: MunicipalityState, year: int | None, now: datetime) -> datetime | None:
    """A task's deadline: `due_after` from when it opens, or for a yearly task from the start of its year."""
    if task.due_after is None:
        return None
    start = state.implementation_year_starts.get(year) if year is not None else None
    due = (start or now) + task.due_after
    if task.payload_kind in NAMND_PAYLOADS:
        return due_at_a_meeting(due, state.calendar)
    return due_on_a_working_day(due, state.calendar)


NAMND_PAYLOADS = frozenset({"namnd_decision", "plan_revision"})
"""Tasks that need the nämnd to meet fall due at a meeting."""


def _years_of(task: TaskTemplate, state: MunicipalityState) -> list[int | None]:
    """The years a task has instances for: every year so far for a yearly task, since a year's work (say,
    a plan revision its planning asked for) may only become possible after the next year has begun."""
    if task.repeat in YEARLY:
        return list(range(1, state.implementation_year + 1))
    return [None]


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
    today: date | None = None,
) -> TaskPayload:
    """The validated payload if `participant_id` may complete `task_key` with it; else TaskRejected.

    `today` enables the checks that depend on the date (an inspection deadline that has already passed).
    """
    if not by_system:
        check_not_held(state)
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
    check_recordable(validated.model_dump(mode="json"))
    problem = _contradiction(state, task, validated, today)
    if problem is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {problem}")
    return validated


def _contradiction(state: MunicipalityState, task: TaskState, payload: TaskPayload, today: date | None) -> str | None:
    """What in a well-formed payload contradicts the pilot itself (its level, its organ, its analysis)."""
    if isinstance(payload, InspectionDecision) and today is not None:
        return _inspection_contradiction(state, payload, today)
    if isinstance(payload, SelfAssessment) and task.level is not None and payload.level != task.level:
        return f"level: this is the self-assessment of level {task.level}, not {payload.level}"
    if isinstance(payload, NamndDecision) and state.deciding_organ and payload.organ != state.deciding_organ:
        return f"organ: {state.municipality_name}'s deciding organ is {state.deciding_organ}, not {payload.organ}"
    if isinstance(payload, NamndDecision) and today is not None and payload.meeting_date > today:
        return f"meeting_date: {payload.meeting_date} is in the future; record a decision once it is taken"
    if isinstance(payload, NamndDecision) and today is not None:
        try:  # the dates completion_events derives from the meeting: some cannot be (holidays before 1953)
            decision_timeline(payload.meeting_date, today=max(payload.meeting_date, today))
        except ValueError as error:
            return f"meeting_date: {error}"
    if isinstance(payload, DecisionPosting) and today is not None:
        meeting = _recorded(state, _decision_of(task.key)).meeting_date
        try:
            decision_timeline(
                meeting, justering_date=payload.justering_date, anslag_date=payload.anslag_date, today=today
            )
        except ValueError as error:
            field = "anslag_date" if str(error).startswith("anslag") else "justering_date"
            return f"{field}: {error}"
    if isinstance(payload, PlanRevision):
        return _contradiction(state, task, payload.decision, today) or _contradiction(
            state, task, payload.revised_plan, today
        )
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
        where = ".".join(_one_line(str(p)) for p in item["loc"]) or "(payload)"
        parts.append(f"{where}: {_one_line(item['msg'])}")
    return "; ".join(parts)


def _one_line(text: str) -> str:
    """`text` with what is not printable (a line break, an escape) written as its escape: field names are keys of
    the submitted answer, and anything can be a key."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def completion_events(
    template: ProgrammeTemplate,
    task_key: str,
    participant_id: str,
    payload: TaskPayload,
    *,
    now: datetime,
    new_id: IdSource,
    state: MunicipalityState | None = None,
) -> list[Event]:
    """What completing a task records: the completion, and the decision when the task is one.

    `state` is needed for an inspection decision, whose remediation depends on what is already registered.
    """
    events: list[Event] = [
        TaskCompleted(
            event_id=new_id(),
            occurred_at=now,
            task_key=task_key,
            completed_by=participant_id,
            payload=payload.model_dump(mode="json"),
        )
    ]
    minuted = payload.decision if isinstance(payload, PlanRevision) else payload
    if isinstance(minuted, NamndDecision):
        decision = minuted
        # The latest dates the kommunallag allows, until the secretary records the real ones.
        timeline = decision_timeline(decision.meeting_date, today=max(decision.meeting_date, now.date()))
        justering_due, anslag_due = timeline.justering_due, timeline.anslag_due
        events.append(
            DecisionRecorded(
                event_id=new_id(),
                occurred_at=now,
                task_key=task_key,
                organ=decision.organ,
                meeting_date=decision.meeting_date,
                paragraph=decision.paragraph,
                diarienummer=decision.diarienummer,
                justering_due=justering_due,
                anslag_due=anslag_due,
                appeal_period_ends_latest=timeline.appeal_period_ends,
            )
        )
    if isinstance(payload, DecisionPosting):
        decision_key = _decision_of(task_key)
        meeting = _recorded(state, decision_key).meeting_date
        timeline = decision_timeline(
            meeting, justering_date=payload.justering_date, anslag_date=payload.anslag_date, today=now.date()
        )
        events.append(
            DecisionPosted(
                event_id=new_id(),
                occurred_at=now,
                decision_task_key=decision_key,
                justering_date=payload.justering_date,
                anslag_date=payload.anslag_date,
                appeal_period_ends=timeline.appeal_period_ends,
            )
        )
    if isinstance(payload, InspectionDecision):
        if state is None:
            raise ValueError("registering an inspection decision needs the pilot's state")
        events += inspection_events(template, state, payload, participant_id, now=now, new_id=new_id)
    return events


def _decision_of(posting_task_key: str) -> str:
    """'decision_posted@annual_report@y1' -> 'annual_report@y1'."""
    return posting_task_key.split("@", 1)[1]


def _recorded(state: MunicipalityState | None, decision_task_key: str) -> DecisionRecorded:
    if state is None:
        raise ValueError("recording a decision's posting needs the pilot's state")
    return next(d for d in state.decisions if d.task_key == decision_task_key)


def next_finality_at(state: MunicipalityState) -> datetime | None:
    """When the next posted decision's appeal period is over (the day after its last day begins)."""
    pending = [
        datetime.combine(posting.appeal_period_ends + timedelta(days=1), time(0, tzinfo=UTC))
        for key, posting in state.postings.items()
        if key not in state.final_decisions
    ]
    return min(pending, default=None)


def finality_events(state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    """The decisions whose appeal period is over by `now`: they have vunnit laga kraft."""
    return [
        DecisionBecameFinal(event_id=new_id(), occurred_at=now, decision_task_key=key)
        for key, posting in state.postings.items()
        if key not in state.final_decisions
        and now >= datetime.combine(posting.appeal_period_ends + timedelta(days=1), time(0, tzinfo=UTC))
    ]


INSPECTION_REGISTRARS = (
    Role.ANALYTIKER,
    Role.FORVALTNINGSCHEF,
    Role.PROGRAMLEDARE,
    Role.REGIONAL_SKOLSTODSGRUPP,
)
"""Who may register a Skolinspektionen decision for the municipality."""


def check_registration(
    state: MunicipalityState, participant_id: str, payload: dict[str, Any], *, today: date
) -> InspectionDecision:
    """The validated decision if `participant_id` may register it now; else TaskRejected."""
    if state.ended:
        raise TaskRejected("pilot_completed", "the pilot has ended; it takes no more decisions")
    check_not_held(state)
    if not any(participant_id in state.participants.get(role, []) for role in INSPECTION_REGISTRARS):
        roles = ", ".join(r.value for r in INSPECTION_REGISTRARS)
        raise TaskRejected(
            "not_allowed", f"participant {participant_id!r} may not register inspection decisions (roles: {roles})"
        )
    try:
        decision = InspectionDecision.model_validate(payload)
    except ValidationError as error:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {describe(error)}") from None
    check_recordable(decision.model_dump(mode="json"))
    problem = _inspection_contradiction(state, decision, today)
    if problem is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {problem}")
    return decision


def _inspection_contradiction(state: MunicipalityState, decision: InspectionDecision, today: date) -> str | None:
    if decision.diarienummer in state.inspections:
        return f"diarienummer: decision {decision.diarienummer} is already registered"
    if decision.follow_up_of is not None:
        original = state.inspections.get(decision.follow_up_of)
        if original is None:
            return f"follow_up_of: no registered decision {decision.follow_up_of}"
        count = len(original.decision.get("findings", []))
        for index, finding in enumerate(decision.findings):
            if finding.follows_up is not None and finding.follows_up >= count:
                return f"findings.{index}.follows_up: decision {decision.follow_up_of} has {count} findings"
    for index, finding in enumerate(decision.findings):
        if finding.deadline is not None and finding.outcome != "avhjalpt" and finding.deadline < today:
            return f"findings.{index}.deadline: {finding.deadline} has already passed"
    return None


def inspection_events(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    decision: InspectionDecision,
    registered_by: str,
    *,
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    """A registered decision, and the remediation it starts, clears or renews."""
    events: list[Event] = [
        InspectionDecisionRegistered(
            event_id=new_id(),
            occurred_at=now,
            diarienummer=decision.diarienummer,
            decision=decision.model_dump(mode="json"),
            registered_by=registered_by,
        )
    ]
    remediates = any(t.repeat is Repeat.PER_FINDING for t in template.tasks)
    for index, finding in enumerate(decision.findings):
        if decision.follow_up_of is not None and finding.follows_up is not None and finding.outcome is not None:
            events += _end_remediation(state, decision, finding.follows_up, finding.outcome, now=now, new_id=new_id)
        if remediates and finding.deadline is not None and finding.outcome != "avhjalpt":
            events.append(
                RemediationScheduled(
                    event_id=new_id(),
                    occurred_at=now,
                    diarienummer=decision.diarienummer,
                    finding_index=index,
                    deadline=finding.deadline,
                    steps=schedule_backwards(finding.deadline, today=now.date()),
                )
            )
    return events


def _end_remediation(
    state: MunicipalityState,
    decision: InspectionDecision,
    original_index: int,
    outcome: Literal["avhjalpt", "kvarstar"],
    *,
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    original = decision.follow_up_of
    assert original is not None
    if f"{original}#{original_index}" not in state.remediation:
        return []
    reason = (
        f"avhjälpt enligt beslut {decision.diarienummer}"
        if outcome == "avhjalpt"
        else f"kvarstår; ny tidsplan enligt beslut {decision.diarienummer}"
    )
    prefix = f"@{original}#{original_index + 1}/"
    closed: list[Event] = [
        TaskClosed(event_id=new_id(), occurred_at=now, task_key=task.key, reason=reason)
        for task in state.open_tasks()
        if prefix in task.key
    ]
    ended = RemediationEnded(
        event_id=new_id(),
        occurred_at=now,
        diarienummer=original,
        finding_index=original_index,
        outcome=outcome,
        by_decision=decision.diarienummer,
    )
    return [ended, *closed]


SELF_ASSESSMENT = "self_assessment"


def consolidate_self_assessments(state: MunicipalityState) -> Consolidation:
    """Every level's completed self-assessment, consolidated (domain.md §5, scoring model)."""
    scores = {}
    for task in state.tasks.values():
        if task.template_key == SELF_ASSESSMENT and task.status is TaskStatus.COMPLETED:
            answer = SelfAssessment.model_validate(task.payload)
            scores[AssessmentLevel(answer.level)] = answer.scores
    return consolidate(scores)


def compare_with_inspection(state: MunicipalityState, diarienummer: str) -> list[ComparisonItem]:
    """Classify every success factor flagged by the own analysis, the inspection, or both (domain.md §7.5)."""
    own = StrengthsWeaknesses.model_validate(state.tasks["strengths_weaknesses"].payload)
    decision = InspectionDecision.model_validate(state.inspections[diarienummer].decision)
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
