"""`apply` and `fold`: a pilot's state is the fold of its events, and folding never changes what it folds into."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devstack.sample_payloads import answer_for
from domain.consolidation import AssessmentLevel, consolidate
from domain.events import (
    EscalationRecipient,
    ImplementationYearStarted,
    PhaseCompleted,
    PhaseStarted,
    PilotStarted,
    SelfAssessmentsConsolidated,
    TaskCompleted,
    TaskEscalated,
    TaskOpened,
    TaskReminderSent,
)
from domain.phases import Phase
from domain.roles import Role
from domain.state import MunicipalityState, TaskStatus, apply, fold

AT = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def started() -> PilotStarted:
    return PilotStarted(
        event_id=uid(1),
        occurred_at=AT,
        programme="leda-for-resultat",
        kommunkod="1861",
        municipality_name="Hallsberg",
        template_key="lfr-skola",
        deciding_organ="Bildningsnämnden",
        participants={Role.PROGRAMLEDARE: ["p-lead"], Role.FORVALTNINGSCHEF: ["p-chef"], Role.REKTOR: ["r1", "r2"]},
    )


def opened(key: str = "self_assessment", n: int = 3, **instance: object) -> TaskOpened:
    return TaskOpened(
        event_id=uid(n),
        occurred_at=AT,
        task_key=key,
        template_key=key.split("@")[0],
        phase=Phase.DEEP_ANALYSIS,
        assignee_id="p-chef",
        due_at=AT + timedelta(days=21),
        **instance,
    )


def history() -> list:
    return [started(), PhaseStarted(event_id=uid(2), occurred_at=AT, phase=Phase.DEEP_ANALYSIS), opened()]


def test_apply_leaves_the_given_state_untouched():
    state = fold(history())
    before = state.model_dump()

    apply(
        state,
        TaskCompleted(
            event_id=uid(9), occurred_at=AT, task_key="self_assessment", completed_by="p-chef", payload={"a": 1}
        ),
    )

    assert state.model_dump() == before


def test_apply_does_not_share_task_objects_with_the_given_state():
    state = fold(history())

    after = apply(
        state,
        TaskReminderSent(
            event_id=uid(9), occurred_at=AT, task_key="self_assessment", recipient_id="p-chef", reminder_number=1
        ),
    )

    assert after.tasks["self_assessment"] is not state.tasks["self_assessment"]
    assert state.tasks["self_assessment"].reminders_sent == 0


def test_fold_leaves_the_initial_state_untouched():
    initial = fold(history()[:1])
    before = initial.model_dump()

    fold(history()[1:], initial)

    assert initial.model_dump() == before


def test_an_empty_state_has_version_0():
    assert MunicipalityState().version == 0


def test_the_version_counts_the_events_folded():
    assert fold(history()).version == 3


def test_folding_in_two_parts_equals_folding_at_once():
    events = history()

    assert fold(events[1:], fold(events[:1])) == fold(events)


def test_a_started_pilot_knows_its_municipality_template_organ_and_participants():
    state = fold([started()])

    assert (state.kommunkod, state.municipality_name, state.template_key) == ("1861", "Hallsberg", "lfr-skola")
    assert state.deciding_organ == "Bildningsnämnden"
    assert state.participants == {
        Role.PROGRAMLEDARE: ["p-lead"],
        Role.FORVALTNINGSCHEF: ["p-chef"],
        Role.REKTOR: ["r1", "r2"],
    }
    assert state.started_at == AT


def test_the_primary_participant_of_a_role_is_its_first():
    assert fold([started()]).primary(Role.REKTOR) == "r1"


def test_a_role_without_participant_has_the_programme_lead_as_primary():
    assert fold([started()]).primary(Role.ANALYTIKER) == "p-lead"


def test_an_opened_instance_keeps_its_template_task_level_year_and_subject():
    state = fold([*history(), opened("measure_progress@y2/M1.1", 4, year=2, subject="M1.1")])

    task = state.tasks["measure_progress@y2/M1.1"]
    assert (task.template_key, task.level, task.year, task.subject) == ("measure_progress", None, 2, "M1.1")
    assert fold([*history(), opened("self_assessment@R", 4, level="R")]).tasks["self_assessment@R"].level == "R"


def test_an_implementation_year_records_its_number_and_start():
    later = AT + timedelta(days=400)
    state = fold(
        [
            *history(),
            ImplementationYearStarted(event_id=uid(4), occurred_at=AT, year=1),
            ImplementationYearStarted(event_id=uid(5), occurred_at=later, year=2),
        ]
    )

    assert (state.implementation_year, state.implementation_year_started_at) == (2, later)


def test_before_the_implementation_the_year_is_0():
    state = fold(history())

    assert (state.implementation_year, state.implementation_year_started_at) == (0, None)


def test_a_consolidation_is_kept_in_the_state():
    consolidation = consolidate({AssessmentLevel.P: {"SF4.e": 4}, AssessmentLevel.R: {"SF4.e": 1}})

    state = fold(
        [*history(), SelfAssessmentsConsolidated(event_id=uid(4), occurred_at=AT, consolidation=consolidation)]
    )

    assert state.consolidation == consolidation
    assert fold(history()).consolidation is None


def plan_drafted(period_years: int = 3) -> list:
    plan = answer_for("plan_draft", AT.date()) | {"period_years": period_years}
    plan["goals"].append(plan["goals"][0] | {"addresses_factor": "SF7", "measures": ["A", "B"], "owner_role": "rektor"})
    return [
        *history(),
        opened("plan_draft", 4),
        TaskCompleted(event_id=uid(5), occurred_at=AT, task_key="plan_draft", completed_by="p-chef", payload=plan),
    ]


def test_the_plan_years_are_the_drafted_plans_period():
    assert fold(plan_drafted(period_years=4)).plan_years == 4


def test_there_are_no_plan_years_or_measures_before_the_plan_is_drafted():
    state = fold([*history(), opened("plan_draft", 4)])

    assert state.plan_years == 0
    assert state.plan_measures() == []


def test_the_plan_measures_are_numbered_per_goal_with_the_goals_owner():
    measures = fold(plan_drafted()).plan_measures()

    assert [(m.id, m.title, m.owner_role, m.goal_index) for m in measures] == [
        ("M1.1", "Resultatdialoger mellan nämnd, förvaltning och rektorer varje termin", Role.FORVALTNINGSCHEF, 0),
        ("M2.1", "A", Role.REKTOR, 1),
        ("M2.2", "B", Role.REKTOR, 1),
    ]


def test_an_opened_task_is_open_with_its_assignee_and_deadline():
    task = fold(history()).tasks["self_assessment"]

    assert task.status is TaskStatus.OPEN
    assert (task.assignee_id, task.opened_at, task.due_at) == ("p-chef", AT, AT + timedelta(days=21))


def test_a_completed_task_keeps_who_completed_it_when_and_with_what():
    later = AT + timedelta(days=4)
    state = fold(
        [
            *history(),
            TaskCompleted(
                event_id=uid(9), occurred_at=later, task_key="self_assessment", completed_by="p-chef", payload={"a": 1}
            ),
        ]
    )

    task = state.tasks["self_assessment"]
    assert state.is_completed("self_assessment")
    assert (task.completed_at, task.completed_by, task.payload) == (later, "p-chef", {"a": 1})
    assert state.open_tasks() == []


def test_reminders_are_counted_per_task():
    reminders = [
        TaskReminderSent(
            event_id=uid(10 + n), occurred_at=AT, task_key="self_assessment", recipient_id="p-chef", reminder_number=n
        )
        for n in (1, 2)
    ]

    assert fold([*history(), *reminders]).tasks["self_assessment"].reminders_sent == 2


def test_an_escalated_task_is_marked_escalated():
    escalation = TaskEscalated(
        event_id=uid(9),
        occurred_at=AT,
        task_key="self_assessment",
        overdue_since=AT,
        recipients=[EscalationRecipient(participant_id="p-lead", escalated_as="lead")],
    )

    assert fold([*history(), escalation]).tasks["self_assessment"].escalated


def test_starting_a_phase_twice_keeps_it_active_once():
    again = PhaseStarted(event_id=uid(9), occurred_at=AT, phase=Phase.DEEP_ANALYSIS)

    assert fold([*history(), again]).active_phases == [Phase.DEEP_ANALYSIS]


def test_a_completed_phase_moves_from_active_to_completed():
    done = PhaseCompleted(event_id=uid(9), occurred_at=AT, phase=Phase.DEEP_ANALYSIS)

    state = fold([*history(), done])

    assert (state.active_phases, state.completed_phases) == ([], [Phase.DEEP_ANALYSIS])


def test_the_current_main_phase_ignores_the_inspection_track():
    state = MunicipalityState(active_phases=[Phase.INSPECTION_COMPARISON, Phase.DEVELOPMENT_PLAN])

    assert state.current_main_phase is Phase.DEVELOPMENT_PLAN


def test_a_pilot_with_only_the_inspection_track_active_has_no_current_main_phase():
    assert MunicipalityState(active_phases=[Phase.INSPECTION_COMPARISON]).current_main_phase is None


def test_a_task_that_never_opened_is_not_completed():
    assert not fold(history()).is_completed("plan_draft")
