"""`start_events` and `advance`: which phases start, which tasks open, when phases and the pilot complete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.events import InspectionCompared, PhaseCompleted, PhaseStarted, PilotCompleted, TaskOpened
from domain.phases import Phase
from domain.programmes import LFR_SKOLA
from domain.roles import Role
from domain.rules import advance, start_events
from domain.state import TaskStatus

DEEP_ANALYSIS_TASKS = ("kpi_data_pack", "self_assessment", "strengths_weaknesses", "analysis_reported")
PLAN_TASKS = ("plan_draft", "plan_adoption")
IMPLEMENTATION_TASKS = ("yearly_follow_up", "annual_report")


def opened(events):
    return [e.task_key for e in events if isinstance(e, TaskOpened)]


# start_events


def test_start_events_record_the_pilot_and_its_assignees(driver, assignees):
    [event] = driver.start()

    assert event.kommunkod == "1861"
    assert event.municipality_name == "Hallsberg"
    assert event.template_key == "lfr-skola"
    assert event.assignees == assignees
    assert event.occurred_at == driver.now


def test_start_events_refuse_when_roles_the_template_needs_have_no_participant(new_id, driver, assignees):
    del assignees[Role.NAMNDSEKRETERARE]
    del assignees[Role.PROGRAMLEDARE]

    with pytest.raises(ValueError, match=r"no participant for the roles \['namndsekreterare', 'programledare'\]"):
        start_events(
            programme="leda-for-resultat",
            kommunkod="1861",
            municipality_name="Hallsberg",
            template=LFR_SKOLA,
            assignees=assignees,
            now=driver.now,
            new_id=new_id,
        )


def test_start_events_do_not_need_roles_the_template_does_not_use(driver, assignees):
    # HR, ekonomi, rektor and politiker own no task of the shipped template.
    needed = {Role.PROGRAMLEDARE, Role.ANALYTIKER, Role.FORVALTNINGSCHEF, Role.NAMNDSEKRETERARE}

    [event] = driver.start({role: pid for role, pid in assignees.items() if role in needed})

    assert set(event.assignees) == needed


# advance on a fresh pilot


def test_advance_on_a_fresh_pilot_starts_the_deep_analysis_and_the_inspection_track(started):
    events = started.advance()

    phases = [e.phase for e in events if isinstance(e, PhaseStarted)]
    assert phases == [Phase.DEEP_ANALYSIS, Phase.INSPECTION_COMPARISON]
    assert started.state.active_phases == [Phase.DEEP_ANALYSIS, Phase.INSPECTION_COMPARISON]


def test_advance_on_a_fresh_pilot_opens_exactly_the_tasks_without_dependencies(started):
    events = started.advance()

    assert opened(events) == ["kpi_data_pack", "self_assessment", "inspection_decision"]


def test_tasks_open_with_a_deadline_of_now_plus_due_after(pilot):
    # self_assessment is due 21 days after it opens; kpi_data_pack and inspection_decision have no deadline.
    assert pilot.state.tasks["self_assessment"].due_at == pilot.now + timedelta(days=21)
    assert pilot.state.tasks["kpi_data_pack"].due_at is None
    assert pilot.state.tasks["inspection_decision"].due_at is None


def test_tasks_open_assigned_to_the_participant_in_the_owner_role(pilot, assignees):
    tasks = pilot.state.tasks

    assert tasks["kpi_data_pack"].assignee_id == assignees[Role.ANALYTIKER]
    assert tasks["self_assessment"].assignee_id == assignees[Role.FORVALTNINGSCHEF]
    assert tasks["inspection_decision"].assignee_id == assignees[Role.ANALYTIKER]


def test_tasks_open_in_their_own_phase_at_the_time_of_advance(pilot):
    task = pilot.state.tasks["inspection_decision"]

    assert task.phase is Phase.INSPECTION_COMPARISON
    assert task.status is TaskStatus.OPEN
    assert task.opened_at == pilot.now


def test_tasks_with_unmet_dependencies_stay_closed(pilot):
    assert "strengths_weaknesses" not in pilot.state.tasks
    assert "analysis_reported" not in pilot.state.tasks
    assert "inspection_action_plan" not in pilot.state.tasks


def test_a_task_stays_closed_while_any_of_its_dependencies_is_open(pilot):
    events = pilot.complete("kpi_data_pack")

    assert opened(events) == []
    assert "strengths_weaknesses" not in pilot.state.tasks


def test_a_task_opens_once_all_its_dependencies_are_completed(pilot):
    pilot.complete("kpi_data_pack")
    pilot.tick(timedelta(days=5))

    events = pilot.complete("self_assessment")

    assert opened(events) == ["strengths_weaknesses"]
    assert pilot.state.tasks["strengths_weaknesses"].due_at == pilot.now + timedelta(days=14)


def test_advance_on_an_advanced_state_returns_nothing(pilot):
    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []


def test_advance_after_a_completion_is_idempotent(pilot):
    pilot.complete("kpi_data_pack")

    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []


# phases


def test_a_phase_stays_active_while_one_of_its_tasks_is_not_completed(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses")

    assert Phase.DEEP_ANALYSIS in pilot.state.active_phases
    assert pilot.state.completed_phases == []


def test_completing_all_tasks_of_a_phase_completes_it_and_starts_the_next_main_phase(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses")

    events = pilot.complete("analysis_reported")

    assert [(type(e), e.phase) for e in events if isinstance(e, PhaseStarted | PhaseCompleted)] == [
        (PhaseCompleted, Phase.DEEP_ANALYSIS),
        (PhaseStarted, Phase.DEVELOPMENT_PLAN),
    ]
    assert opened(events) == ["plan_draft"]
    assert pilot.state.current_main_phase is Phase.DEVELOPMENT_PLAN


def test_the_next_main_phase_starts_while_the_inspection_track_is_still_running(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS)

    assert pilot.state.active_phases == [Phase.INSPECTION_COMPARISON, Phase.DEVELOPMENT_PLAN]
    assert pilot.state.completed_phases == [Phase.DEEP_ANALYSIS]


def test_completing_the_inspection_track_starts_no_other_phase(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses", "inspection_decision")

    events = pilot.complete("inspection_action_plan")

    assert [(type(e), e.phase) for e in events if isinstance(e, PhaseStarted | PhaseCompleted)] == [
        (PhaseCompleted, Phase.INSPECTION_COMPARISON),
    ]
    assert pilot.state.active_phases == [Phase.DEEP_ANALYSIS]


def test_the_last_main_phase_starts_no_further_phase(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, *PLAN_TASKS, "yearly_follow_up")

    events = pilot.complete("annual_report")

    assert [e.phase for e in events if isinstance(e, PhaseStarted)] == []
    assert Phase.IMPLEMENTATION in pilot.state.completed_phases


# the inspection comparison


def test_no_comparison_while_only_the_inspection_decision_is_completed(pilot):
    events = pilot.complete("inspection_decision")

    assert not any(isinstance(e, InspectionCompared) for e in events)
    assert pilot.state.comparison is None


def test_no_comparison_while_only_the_strengths_and_weaknesses_are_completed(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses")

    assert not any(isinstance(e, InspectionCompared) for e in pilot.events)
    assert pilot.state.comparison is None


def test_the_comparison_is_produced_when_the_inspection_decision_completes_last(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses")

    events = pilot.complete("inspection_decision")

    assert [type(e) for e in events if isinstance(e, InspectionCompared)] == [InspectionCompared]
    assert pilot.state.comparison is not None


def test_the_comparison_is_produced_when_the_strengths_and_weaknesses_complete_last(pilot):
    pilot.complete_all("inspection_decision", "kpi_data_pack", "self_assessment")

    events = pilot.complete("strengths_weaknesses")

    assert [type(e) for e in events if isinstance(e, InspectionCompared)] == [InspectionCompared]
    assert pilot.state.comparison is not None


def test_the_comparison_is_produced_only_once(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "inspection_decision", "inspection_action_plan", *PLAN_TASKS)

    assert sum(isinstance(e, InspectionCompared) for e in pilot.events) == 1


def test_the_action_plan_opens_when_both_the_decision_and_the_own_analysis_are_completed(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "inspection_decision")

    events = pilot.complete("strengths_weaknesses")

    assert opened(events) == ["analysis_reported", "inspection_action_plan"]


# completing the pilot


def test_the_pilot_is_not_completed_while_the_inspection_track_is_active(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, *PLAN_TASKS, *IMPLEMENTATION_TASKS, "inspection_decision")

    assert pilot.state.completed_phases == [Phase.DEEP_ANALYSIS, Phase.DEVELOPMENT_PLAN, Phase.IMPLEMENTATION]
    assert pilot.state.active_phases == [Phase.INSPECTION_COMPARISON]
    assert pilot.state.completed_at is None
    assert not any(isinstance(e, PilotCompleted) for e in pilot.events)


def test_the_pilot_completes_when_its_last_phase_completes(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, *PLAN_TASKS, *IMPLEMENTATION_TASKS, "inspection_decision")
    pilot.tick(timedelta(days=3))

    events = pilot.complete("inspection_action_plan")

    assert [type(e) for e in events[-2:]] == [PhaseCompleted, PilotCompleted]
    assert pilot.state.completed_at == pilot.now
    assert pilot.state.active_phases == []


def test_advance_on_a_completed_pilot_returns_nothing(pilot):
    pilot.complete_all(
        *DEEP_ANALYSIS_TASKS, "inspection_decision", "inspection_action_plan", *PLAN_TASKS, *IMPLEMENTATION_TASKS
    )
    assert pilot.state.completed_at is not None

    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []
