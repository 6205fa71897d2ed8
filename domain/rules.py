"""The programme's rules: what opens next, who may complete what, and what a completion records.

Every function here is pure: the caller passes the clock (`now`) and an id source (`new_id`), so a workflow
can call them deterministically and a test can call them in microseconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from domain.calendar import (
    SchoolCalendar,
    day_of,
    deadline_on_a_working_day,
    due_at_a_meeting,
    due_on_a_working_day,
    meeting_reachable_from,
    notice_deadline_on_or_after,
    office_day_end,
)
from domain.consolidation import AssessmentLevel, Consolidation, consolidate
from domain.decision_dates import decision_timeline
from domain.events import (
    DecisionBecameFinal,
    DecisionPosted,
    DecisionRecorded,
    Event,
    ImplementationYearStarted,
    InspectionCompared,
    InspectionTrackClosedWithoutDecision,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    SelfAssessmentsConsolidated,
    TaskClosed,
    TaskCompleted,
    TaskOpened,
)
from domain.follow_up import follow_up_contradiction
from domain.inspection import compare_with_inspection, inspection_contradiction, inspection_events
from domain.instances import TaskInstance, all_done, instances_of, template_key_of
from domain.payloads import (
    DecisionPosting,
    InspectionDecision,
    NamndDecision,
    PlanDraft,
    PlanRevision,
    SelfAssessment,
    TaskPayload,
    YearlyFollowUp,
)
from domain.phases import MAIN_TRACK, PARALLEL_TRACKS, Phase
from domain.refusals import (
    IdSource,
    TaskRejected,
    check_not_held,
    check_recordable,
    describe,
)
from domain.roles import Role
from domain.rulebook import CURRENT_RULES, Rulebook
from domain.state import MunicipalityState, NetworkMeeting, TaskState, TaskStatus, fold
from domain.task_keys import INSPECTION_DECISION, SELF_ASSESSMENT, STRENGTHS_WEAKNESSES
from domain.template import NAMND_PAYLOADS, NETWORK_REFLECTION, YEARLY, ProgrammeTemplate, Repeat, TaskTemplate


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
    managers: dict[str, str] | None = None,
) -> list[Event]:
    """The events that start a pilot; `advance` then opens its first tasks. `managers` names each participant's
    line manager, where the directory names one."""
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
            managers=managers or {},
        )
    ]


def advance(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    *,
    now: datetime,
    new_id: IdSource,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """Everything that follows from the current state: phases started or completed, tasks opened."""
    produced: list[Event] = []
    while True:
        step = _next_step(template, state, now=now, new_id=new_id, rules=rules)
        if not step:
            return produced
        state = fold(step, state)
        produced.extend(step)


def _next_step(
    template: ProgrammeTemplate, state: MunicipalityState, *, now: datetime, new_id: IdSource, rules: Rulebook
) -> list[Event]:
    if state.ended:
        return []
    if not state.active_phases and not state.completed_phases:
        return [PhaseStarted(event_id=new_id(), occurred_at=now, phase=p) for p in (MAIN_TRACK[0], *PARALLEL_TRACKS)]

    if rules.optional_inspection and _inspection_track_ends_without_decision(state):
        return _close_inspection_track(state, now=now, new_id=new_id)

    for phase in state.active_phases:
        if _phase_done(template, state, phase, rules):
            events: list[Event] = [PhaseCompleted(event_id=new_id(), occurred_at=now, phase=phase)]
            following = _following_main_phase(phase)
            if following is not None:
                events.append(PhaseStarted(event_id=new_id(), occurred_at=now, phase=following))
                if following is Phase.IMPLEMENTATION:
                    events.append(ImplementationYearStarted(event_id=new_id(), occurred_at=now, year=1))
            return events

    if state.consolidation is None and template.has_task(SELF_ASSESSMENT):
        assessment = template.task(SELF_ASSESSMENT)
        instances = instances_of(assessment, state, rules=rules)
        if any(state.is_completed(i.key) for i in instances) and all(state.is_completed(i.key) for i in instances):
            return [
                SelfAssessmentsConsolidated(
                    event_id=new_id(), occurred_at=now, consolidation=consolidate_self_assessments(state)
                )
            ]

    if state.is_completed(STRENGTHS_WEAKNESSES):
        for diarienummer, registered in state.inspections.items():
            if diarienummer not in state.comparisons and registered.decision.get("follow_up_of") is None:
                items = compare_with_inspection(state, diarienummer)
                return [InspectionCompared(event_id=new_id(), occurred_at=now, diarienummer=diarienummer, items=items)]

    openable = [
        (task, instance)
        for task in template.tasks
        if task.phase in state.active_phases
        for year in _years_of(task, state)
        for instance in instances_of(task, state, year=year, rules=rules)
        if instance.key not in state.tasks
        and all(all_done(template.task(dep), state, year=instance.year, rules=rules) for dep in task.depends_on)
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
                due_at=_instance_due(template, task, instance, state, now, rules),
                level=instance.level,
                year=instance.year,
                subject=instance.subject,
                owner_role=instance.owner_role if rules.deadlines_by_role else None,
            )
            for task, instance in openable
        ]

    if not state.active_phases:
        closed = open_network_tasks_closed(state, now=now, new_id=new_id)
        return [*closed, PilotCompleted(event_id=new_id(), occurred_at=now)]
    return []


NO_INSPECTION_REASON = (
    "inget beslut från Skolinspektionen registrerades under programmet / "
    "no Skolinspektionen decision was registered during the programme"
)


def _inspection_track_ends_without_decision(state: MunicipalityState) -> bool:
    """Inspection is optional: when the programme is otherwise over (its main phases done, its decisions final) and
    no decision was registered, the inspection track has nothing left to wait for."""
    return (
        Phase.INSPECTION_COMPARISON in state.active_phases
        and not state.inspections
        and all(p in state.completed_phases for p in MAIN_TRACK)
        and Phase.DECISION_FOLLOW_UP not in state.active_phases
    )


def _close_inspection_track(state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    return [
        InspectionTrackClosedWithoutDecision(event_id=new_id(), occurred_at=now),
        *(
            TaskClosed(event_id=new_id(), occurred_at=now, task_key=task.key, reason=NO_INSPECTION_REASON)
            for task in state.open_tasks()
            if task.phase is Phase.INSPECTION_COMPARISON
        ),
        PhaseCompleted(event_id=new_id(), occurred_at=now, phase=Phase.INSPECTION_COMPARISON),
    ]


def _phase_done(template: ProgrammeTemplate, state: MunicipalityState, phase: Phase, rules: Rulebook) -> bool:
    tasks = template.tasks_in(phase)
    if phase is Phase.DECISION_FOLLOW_UP:
        # Open until the main phases are done and every decision they produced has vunnit laga kraft, or was
        # annulled on appeal and decided again.
        return (
            all(p in state.completed_phases for p in MAIN_TRACK)
            and all(all_done(t, state, rules=rules) for t in tasks)
            and all(d.key in state.final_decisions or d.key in state.annulled_decisions for d in state.decisions)
            and not any(t.reopened and t.status is TaskStatus.OPEN for t in state.tasks.values())
        )
    if phase is Phase.INSPECTION_COMPARISON:
        # Decisions can arrive in any phase, so the track stays open until the programme's main phases are
        # done, at least one decision has been registered, and every remediation step is settled.
        return (
            all(p in state.completed_phases for p in MAIN_TRACK)
            and bool(state.inspections)
            and all(state.is_settled(t.key) for t in state.tasks.values() if t.phase is phase)
            and all(all_done(t, state, rules=rules) for t in tasks if t.repeat is not Repeat.PER_FINDING)
        )
    if phase is Phase.IMPLEMENTATION:
        # Done in the plan's last year, once every year's tasks are (a year's work may run past its end).
        return (
            state.implementation_year >= max(state.plan_years, 1)
            and all(all_done(t, state, year=y, rules=rules) for t in tasks for y in _years_of(t, state))
            and all(t.status is TaskStatus.COMPLETED for t in state.tasks.values() if t.phase is phase)
        )
    return all(all_done(t, state, rules=rules) for t in tasks)


def _instance_due(
    template: ProgrammeTemplate,
    task: TaskTemplate,
    instance: TaskInstance,
    state: MunicipalityState,
    now: datetime,
    rules: Rulebook,
) -> datetime | None:
    """An instance's deadline: its own (a calendar day, on the programme's clock), or its task's."""
    if instance.due_at is None:
        return _due(template, task, state, instance.year, now, rules, role=instance.owner_role)
    if rules.compressed_legal_periods and instance.reckoned_from is not None:
        return template.on_programme_clock(instance.due_at, reckoned_from=instance.reckoned_from)
    return instance.due_at


def _due(
    template: ProgrammeTemplate,
    task: TaskTemplate,
    state: MunicipalityState,
    year: int | None,
    now: datetime,
    rules: Rulebook,
    *,
    role: Role | None,
    since: datetime | None = None,
) -> datetime | None:
    """A task's deadline: `due_after` from when it opens (`since`, default now), or for a yearly task from the start
    of its year; moved off its holder's days off, and for the nämnd to a meeting (see `_due_by_role`)."""
    if task.due_after is None:
        return None
    start = state.implementation_year_starts.get(year) if year is not None and since is None else None
    due = (start or since or now) + task.due_after
    if not rules.deadlines_by_role:
        if task.payload_kind in NAMND_PAYLOADS:
            return due_at_a_meeting(due, state.calendar)
        return due_on_a_working_day(due, state.calendar)
    if not template.in_real_time:
        return due  # a demo's days are tenths of a second: weekdays and meetings mean nothing to it
    return _due_by_role(template, task, state, due, now, role or task.owner_role, rules)


def reopened_due(
    template: ProgrammeTemplate, state: MunicipalityState, task: TaskState, *, now: datetime, rules: Rulebook
) -> datetime | None:
    """A reopened task's new deadline: its time again, counted from now, on the rules it first opened by."""
    task_template = template.task(task.template_key)
    return _due(template, task_template, state, task.year, now, rules, role=task.owner_role, since=now)


def _due_by_role(
    template: ProgrammeTemplate,
    task: TaskTemplate,
    state: MunicipalityState,
    due: datetime,
    now: datetime,
    role: Role,
    rules: Rulebook,
) -> datetime:
    """The current edition's deadline rules (domain.rulebook, deadlines_by_role).

    - The nämnd's decision is due at the first meeting the case still reaches when the task opens (ready by the
      meeting's notice), and what the decision rests on is due by the notice of the first meeting whose notice
      comes on or after its own deadline: the preparation time is set per organ in the calendar.
    - Any other deadline, and these when no meeting is known, moves off its holder's days off.
    """
    calendar, swedish = state.calendar, rules.office_day_in_swedish_time
    meetings = calendar.meetings_of(state.deciding_organ) if calendar is not None else None
    if meetings is not None and task.payload_kind in NAMND_PAYLOADS:
        meeting = meeting_reachable_from(day_of(now, swedish=swedish), meetings)
        if meeting is not None:
            return office_day_end(meeting, due, swedish=swedish)
    if meetings is not None and template.prepares_namnd_decision(task.key):
        notice = notice_deadline_on_or_after(day_of(due, swedish=swedish), meetings)
        if notice is not None:
            return office_day_end(notice, due, swedish=swedish)
    return deadline_on_a_working_day(due, role, calendar, swedish=swedish)


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


def repeat_of(
    template: ProgrammeTemplate, state: MunicipalityState, task_key: str, participant_id: str, payload: dict[str, Any]
) -> TaskState | None:
    """The completed task, if `participant_id` completed it with this very answer (as the record holds it, once
    validated): sent again, it is a repeat, answered as such and recorded no second time. None for anything else,
    which `check_completion` judges (a different answer to a completed task is `already_completed`)."""
    task = state.tasks.get(task_key)
    if task is None or task.status is not TaskStatus.COMPLETED or task.completed_by != participant_id:
        return None
    if not template.has_task(task.template_key):
        return None
    try:
        answer = template.task(task.template_key).payload_model.model_validate(payload)
    except ValidationError:
        return None
    return task if answer.model_dump(mode="json") == task.payload else None


def check_completion(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    task_key: str,
    participant_id: str,
    payload: dict[str, Any],
    *,
    by_system: bool = False,
    today: date | None = None,
    rules: Rulebook = CURRENT_RULES,
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
        raise no_reflection_asked(state.meetings, task_key) or TaskRejected(
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
    problem = _contradiction(state, task, validated, today, rules)
    if problem is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {problem}")
    return validated


def _contradiction(
    state: MunicipalityState, task: TaskState, payload: TaskPayload, today: date | None, rules: Rulebook
) -> str | None:
    """What in a well-formed payload contradicts the pilot itself (its level, its organ, its analysis)."""
    if isinstance(payload, InspectionDecision) and today is not None:
        return inspection_contradiction(state, payload, today, late_allowed=rules.optional_inspection)
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
        meeting = _recorded(state, decision_of(task.key)).meeting_date
        try:
            decision_timeline(
                meeting, justering_date=payload.justering_date, anslag_date=payload.anslag_date, today=today
            )
        except ValueError as error:
            field = "anslag_date" if str(error).startswith("anslag") else "justering_date"
            return f"{field}: {error}"
    if isinstance(payload, YearlyFollowUp):
        return follow_up_contradiction(state, task.key, payload)
    if isinstance(payload, PlanRevision):
        return _contradiction(state, task, payload.decision, today, rules) or _contradiction(
            state, task, payload.revised_plan, today, rules
        )
    if isinstance(payload, PlanDraft):
        analysis = state.completed_payload(STRENGTHS_WEAKNESSES)
        prioritised = set(analysis["prioritised_factors"]) if analysis else set()  # type: ignore[call-overload]
        for index, goal in enumerate(payload.goals):
            if prioritised and goal.addresses_factor not in prioritised:
                return (
                    f"goals.{index}.addresses_factor: {goal.addresses_factor} is not among the prioritised "
                    f"development areas {sorted(prioritised)}"
                )
    return None


def completion_events(
    template: ProgrammeTemplate,
    task_key: str,
    participant_id: str,
    payload: TaskPayload,
    *,
    now: datetime,
    new_id: IdSource,
    state: MunicipalityState | None = None,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """What completing a task records: the completion, and the decision when the task is one.

    `state` is needed for an inspection decision, whose remediation depends on what is already registered, and for
    a decision taken again after its task's earlier decision was annulled.
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
        lawful = rules.lawful_decision_dates
        timeline = decision_timeline(decision.meeting_date, today=max(decision.meeting_date, now.date()), lawful=lawful)
        justering_due = timeline.justering_latest if lawful else timeline.justering_due
        anslag_due = timeline.anslag_latest if lawful else timeline.anslag_due
        earlier = sum(1 for d in state.decisions if d.task_key == task_key) if state is not None else 0
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
                decision_key=f"{task_key}/{earlier + 1}" if earlier else None,
            )
        )
    if isinstance(payload, DecisionPosting):
        decision_key = decision_of(task_key)
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
        events += inspection_events(template, state, payload, participant_id, now=now, new_id=new_id, rules=rules)
    return events


def registration_events(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    decision: InspectionDecision,
    registered_by: str,
    *,
    now: datetime,
    new_id: IdSource,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """What registering a checked decision (`domain.inspection.check_registration`) records: the first one completes
    the inspection task the track waits for; any later one is registered alone (`inspection_events`)."""
    if state.tasks.get(INSPECTION_DECISION) and not state.is_settled(INSPECTION_DECISION):
        return completion_events(
            template, INSPECTION_DECISION, registered_by, decision, now=now, new_id=new_id, state=state, rules=rules
        )
    return inspection_events(template, state, decision, registered_by, now=now, new_id=new_id, rules=rules)


def decision_of(posting_task_key: str) -> str:
    """'decision_posted@annual_report@y1' -> 'annual_report@y1'."""
    return posting_task_key.split("@", 1)[1]


def _recorded(state: MunicipalityState | None, decision_key: str) -> DecisionRecorded:
    if state is None:
        raise ValueError("recording a decision's posting needs the pilot's state")
    decision = state.decision(decision_key)
    if decision is None:
        raise ValueError(f"no decision {decision_key!r} is recorded")
    return decision


def finality_moment(
    template: ProgrammeTemplate, posting: DecisionPosted, *, rules: Rulebook = CURRENT_RULES
) -> datetime:
    """When a posted decision's appeal period is over: as its last day ends (on a demo's clock, that much sooner)."""
    ends = datetime.combine(posting.appeal_period_ends + timedelta(days=1), time(0, tzinfo=UTC))
    if rules.compressed_legal_periods:
        return template.on_programme_clock(ends, reckoned_from=posting.occurred_at)
    return ends


def _awaiting_finality(state: MunicipalityState) -> list[DecisionPosted]:
    """Posted decisions not final yet that nothing but time holds: no appeal pending, not annulled."""
    return [
        posting
        for key, posting in state.postings.items()
        if key not in state.final_decisions and key not in state.annulled_decisions and not state.appeal_pending(key)
    ]


def next_finality_at(
    template: ProgrammeTemplate, state: MunicipalityState, *, rules: Rulebook = CURRENT_RULES
) -> datetime | None:
    """When the next posted decision's appeal period is over (the day after its last day begins)."""
    return min((finality_moment(template, p, rules=rules) for p in _awaiting_finality(state)), default=None)


def finality_events(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    *,
    now: datetime,
    new_id: IdSource,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """The decisions whose appeal period is over by `now`, with no appeal pending: they have vunnit laga kraft."""
    return [
        DecisionBecameFinal(event_id=new_id(), occurred_at=now, decision_task_key=posting.decision_task_key)
        for posting in _awaiting_finality(state)
        if now >= finality_moment(template, posting, rules=rules)
    ]


def no_reflection_asked(meetings: dict[str, NetworkMeeting], task_key: str) -> TaskRejected | None:
    """Why a pilot has no reflection task for a meeting, when that is what `task_key` asks for: it did not attend
    the meeting, or its attendance is not recorded yet. None for any other task."""
    template_key, _, meeting_id = task_key.partition("@")
    meeting = meetings.get(meeting_id)
    if template_key != NETWORK_REFLECTION or meeting is None:
        return None
    if meeting.attended is False:
        return TaskRejected(
            "not_attended",
            f"task_key: the pilot did not attend the network meeting {meeting_id}; no reflection is asked of it",
        )
    if meeting.attended is None:
        return TaskRejected(
            "not_open", f"task_key: the attendance of {meeting_id} is not recorded yet; the reflection opens with it"
        )
    return None


def open_network_tasks_closed(state: MunicipalityState, *, now: datetime, new_id: IdSource) -> list[Event]:
    """When the programme is over, what is still open of its network meetings is no longer asked for."""
    return [
        TaskClosed(
            event_id=new_id(),
            occurred_at=now,
            task_key=task.key,
            reason="programmet är avslutat / the programme is over",
        )
        for task in state.open_tasks()
        if task.phase is Phase.NETWORK
    ]


def consolidate_self_assessments(state: MunicipalityState) -> Consolidation:
    """Every completed self-assessment, consolidated by level (domain.consolidation)."""
    answers: dict[AssessmentLevel, list[dict[str, int]]] = {}
    for task in state.tasks.values():
        if task.template_key == SELF_ASSESSMENT and task.status is TaskStatus.COMPLETED:
            answer = SelfAssessment.model_validate(task.payload)
            answers.setdefault(AssessmentLevel(answer.level), []).append(answer.scores)
    return consolidate(answers)
