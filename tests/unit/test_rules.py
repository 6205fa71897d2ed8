"""`start_events` and `advance`: which phases start, which tasks open, when phases and the pilot complete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devstack.sample_payloads import answer_for
from domain.events import (
    InspectionCompared,
    InspectionTrackClosedWithoutDecision,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    TaskClosed,
    TaskOpened,
)
from domain.phases import PARALLEL_TRACKS, Phase
from domain.refusals import TaskRejected
from domain.roles import Role
from domain.rulebook import FIRST_EDITION
from domain.rules import advance, start_events
from domain.state import TaskStatus
from programmes import LFR_SKOLA
from tests.unit.conftest import PilotDriver

DIARIENUMMER = "SI-2024:1861-SYNTETISK"  # the synthetic inspection decision's
SELF_ASSESSMENTS = (
    "self_assessment@P",
    "self_assessment@F",
    "self_assessment@R",
    "self_assessment@S",
    "self_assessment@S/p-ekonomi",  # both support functions assess
)
DEEP_ANALYSIS_TASKS = ("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
PLAN_TASKS = ("plan_draft", "consult_hr", "consult_finance", "plan_adoption")
YEAR_TASKS = (
    "ska_follow_up",
    "ska_analysis",
    "ska_planning",
    "measure_progress",
    "change_project",
    "funding_application",
    "annual_report",
)


def opened(events, phase: Phase | None = None):
    return [e.task_key for e in events if isinstance(e, TaskOpened) and phase in (None, e.phase)]


def phase_changes(events):
    return [(type(e), e.phase) for e in events if isinstance(e, PhaseStarted | PhaseCompleted)]


def one_year_plan(pilot) -> list:
    """Draft a plan that runs a single implementation year, so the main track can finish in one."""
    return pilot.complete("plan_draft", answer_for("plan_draft", pilot.now.date()) | {"period_years": 1})


def run_main_track(pilot) -> None:
    """Deep analysis, a one-year plan, and that year's tasks: everything but the inspection track."""
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported")
    one_year_plan(pilot)
    pilot.complete_all("consult_hr", "consult_finance", "plan_adoption", *YEAR_TASKS)


# start_events


def test_start_events_record_the_pilot_its_organ_and_its_participants(driver, participants):
    [event] = driver.start()

    assert event.kommunkod == "1861"
    assert event.municipality_name == "Hallsberg"
    assert event.template_key == "lfr-skola"
    assert event.deciding_organ == "Bildningsnämnden"
    assert event.participants == participants
    assert event.occurred_at == driver.now


def test_start_events_keep_every_participant_of_a_role(driver, participants):
    participants[Role.REKTOR] = ["p-rektor-1", "p-rektor-2"]

    [event] = driver.start(participants)

    assert event.participants[Role.REKTOR] == ["p-rektor-1", "p-rektor-2"]


def test_start_events_refuse_when_roles_the_template_needs_have_no_participant(new_id, driver, participants):
    del participants[Role.NAMNDSEKRETERARE]
    participants[Role.PROGRAMLEDARE] = []  # an empty list is no participant either

    with pytest.raises(ValueError, match=r"no participant for the roles \['namndsekreterare', 'programledare'\]"):
        start_events(
            programme="leda-for-resultat",
            kommunkod="1861",
            municipality_name="Hallsberg",
            deciding_organ="Bildningsnämnden",
            template=LFR_SKOLA,
            participants=participants,
            now=driver.now,
            new_id=new_id,
        )


def test_start_events_do_not_need_roles_the_template_does_not_use(driver, participants):
    # The SKL template has no task for a regional school support group (the Örebro variant has).
    unused = {Role.REGIONAL_SKOLSTODSGRUPP}

    [event] = driver.start({role: ids for role, ids in participants.items() if role not in unused})

    assert set(event.participants) == set(Role) - unused


# advance on a fresh pilot


def test_advance_on_a_fresh_pilot_starts_the_deep_analysis_and_the_inspection_track(started):
    events = started.advance()

    phases = [e.phase for e in events if isinstance(e, PhaseStarted)]
    assert phases == [Phase.DEEP_ANALYSIS, *PARALLEL_TRACKS]
    assert Phase.INSPECTION_COMPARISON in PARALLEL_TRACKS
    assert started.state.active_phases == [Phase.DEEP_ANALYSIS, *PARALLEL_TRACKS]


def test_advance_on_a_fresh_pilot_opens_exactly_the_instances_without_dependencies(started):
    events = started.advance()

    assert opened(events) == ["kpi_data_pack", "document_collection", *SELF_ASSESSMENTS, "inspection_decision"]


def test_tasks_open_with_a_deadline_of_now_plus_due_after(pilot):
    # self_assessment is due 21 days after it opens; kpi_data_pack and inspection_decision have no deadline.
    assert pilot.state.tasks["self_assessment@R"].due_at == pilot.now + timedelta(days=21)
    assert pilot.state.tasks["document_collection"].due_at == pilot.now + timedelta(days=21)
    assert pilot.state.tasks["kpi_data_pack"].due_at is None
    assert pilot.state.tasks["inspection_decision"].due_at is None


def test_tasks_open_assigned_to_the_participant_in_the_owner_role(pilot, participants):
    tasks = pilot.state.tasks

    assert tasks["kpi_data_pack"].assignee_id == participants[Role.ANALYTIKER][0]
    assert tasks["document_collection"].assignee_id == participants[Role.FORVALTNINGSCHEF][0]
    assert tasks["inspection_decision"].assignee_id == participants[Role.ANALYTIKER][0]


def test_an_opened_instance_knows_its_template_task(pilot):
    task = pilot.state.tasks["self_assessment@S"]

    assert (task.template_key, task.level, task.year, task.subject) == ("self_assessment", "S", None, None)
    assert pilot.state.tasks["kpi_data_pack"].template_key == "kpi_data_pack"


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
    pilot.complete_all("kpi_data_pack", "document_collection")

    events = pilot.complete_all("self_assessment@P", "self_assessment@F", "self_assessment@R")

    assert opened(events) == []
    assert "strengths_weaknesses" not in pilot.state.tasks


def test_a_task_opens_once_every_instance_of_its_dependencies_is_completed(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", *SELF_ASSESSMENTS[:-1])
    pilot.tick(timedelta(days=5))

    events = pilot.complete(SELF_ASSESSMENTS[-1])

    assert opened(events) == ["strengths_weaknesses"]
    assert pilot.state.tasks["strengths_weaknesses"].due_at == pilot.now + timedelta(days=30)


def test_advance_on_an_advanced_state_returns_nothing(pilot):
    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []


def test_advance_after_a_completion_is_idempotent(pilot):
    pilot.complete("kpi_data_pack")

    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []


# phases


def test_a_phase_stays_active_while_one_of_its_tasks_is_not_completed(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS)

    assert Phase.DEEP_ANALYSIS in pilot.state.active_phases
    assert pilot.state.completed_phases == []


def test_completing_all_tasks_of_a_phase_completes_it_and_starts_the_next_main_phase(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS)

    events = pilot.complete("analysis_reported")

    assert phase_changes(events) == [(PhaseCompleted, Phase.DEEP_ANALYSIS), (PhaseStarted, Phase.DEVELOPMENT_PLAN)]
    assert opened(events, Phase.DEVELOPMENT_PLAN) == ["plan_draft"]
    assert pilot.state.current_main_phase is Phase.DEVELOPMENT_PLAN


def test_both_consultations_open_with_the_draft_and_the_adoption_waits_for_both(pilot, participants):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported")

    assert opened(pilot.complete("plan_draft")) == ["consult_hr", "consult_finance"]
    assert pilot.state.tasks["consult_hr"].assignee_id == participants[Role.HR][0]
    assert pilot.state.tasks["consult_finance"].assignee_id == participants[Role.EKONOMI][0]
    assert opened(pilot.complete("consult_hr")) == []
    assert opened(pilot.complete("consult_finance")) == ["plan_adoption"]


def test_the_next_main_phase_starts_while_the_inspection_track_is_still_running(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported")

    assert pilot.state.active_phases == [*PARALLEL_TRACKS, Phase.DEVELOPMENT_PLAN]
    assert pilot.state.completed_phases == [Phase.DEEP_ANALYSIS]


def test_the_inspection_track_stays_active_while_the_main_track_runs_even_when_settled(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "inspection_decision", "remediation")

    assert all(
        t.status is TaskStatus.COMPLETED for t in pilot.state.tasks.values() if t.phase is Phase.INSPECTION_COMPARISON
    )
    assert pilot.state.active_phases == [Phase.DEEP_ANALYSIS, *PARALLEL_TRACKS]
    assert not any(isinstance(e, PhaseCompleted) for e in pilot.events)


def test_the_plan_phase_starts_the_implementation_and_its_first_year(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported", "plan_draft", "consult_hr", "consult_finance")

    events = pilot.complete("plan_adoption")

    assert phase_changes(events) == [(PhaseCompleted, Phase.DEVELOPMENT_PLAN), (PhaseStarted, Phase.IMPLEMENTATION)]
    assert pilot.state.implementation_year == 1
    assert "ska_follow_up@y1" in opened(events)


def test_the_last_main_phase_starts_no_further_phase(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported")
    one_year_plan(pilot)
    pilot.complete_all("consult_hr", "consult_finance", "plan_adoption", *YEAR_TASKS[:-1])

    events = pilot.complete("annual_report@y1")

    assert [e.phase for e in events if isinstance(e, PhaseStarted)] == []
    assert Phase.IMPLEMENTATION in pilot.state.completed_phases


# the inspection comparison


def compared(events) -> list[str]:
    return [e.diarienummer for e in events if isinstance(e, InspectionCompared)]


def test_no_comparison_while_only_the_inspection_decision_is_completed(pilot):
    events = pilot.complete("inspection_decision")

    assert compared(events) == []
    assert pilot.state.comparisons == {}


def test_no_comparison_while_only_the_strengths_and_weaknesses_are_completed(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS)

    assert compared(pilot.events) == []
    assert pilot.state.comparisons == {}


def test_the_comparison_is_produced_when_the_inspection_decision_completes_last(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS)

    events = pilot.complete("inspection_decision")

    assert compared(events) == [DIARIENUMMER]
    assert DIARIENUMMER in pilot.state.comparisons


def test_the_comparison_is_produced_when_the_strengths_and_weaknesses_complete_last(pilot):
    pilot.complete_all("inspection_decision", *DEEP_ANALYSIS_TASKS[:-1])

    events = pilot.complete("strengths_weaknesses")

    assert compared(events) == [DIARIENUMMER]
    assert DIARIENUMMER in pilot.state.comparisons


def test_the_comparison_is_produced_only_once(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS, "analysis_reported", "inspection_decision", "remediation")
    pilot.complete_all(*PLAN_TASKS)

    assert compared(pilot.events) == [DIARIENUMMER]


def test_the_strengths_and_weaknesses_wait_for_no_inspection_decision(pilot):
    pilot.complete_all(*DEEP_ANALYSIS_TASKS[:-1])

    events = pilot.complete("strengths_weaknesses")

    assert opened(events) == ["analysis_reported"]


# completing the pilot


def test_a_pilot_with_no_inspection_decision_during_its_programme_completes(pilot):
    run_main_track(pilot)
    pilot.settle(leave=("inspection_decision",))

    closing = pilot.events[-4:]
    assert [type(e) for e in closing] == [
        InspectionTrackClosedWithoutDecision,
        TaskClosed,
        PhaseCompleted,
        PilotCompleted,
    ]
    assert (closing[1].task_key, closing[2].phase) == ("inspection_decision", Phase.INSPECTION_COMPARISON)
    assert "no Skolinspektionen decision was registered during the programme" in closing[1].reason
    assert pilot.state.inspection_closed_without_decision == pilot.now
    assert pilot.state.completed_at == pilot.now


def test_the_inspection_track_closes_only_once_every_decision_has_become_final(pilot):
    run_main_track(pilot)
    pilot.settle(leave=("inspection_decision", "decision_posted"))

    assert Phase.DECISION_FOLLOW_UP in pilot.state.active_phases
    assert Phase.INSPECTION_COMPARISON in pilot.state.active_phases
    assert not any(isinstance(e, InspectionTrackClosedWithoutDecision) for e in pilot.events)


def test_a_decision_can_still_be_registered_while_the_last_decisions_become_final(pilot):
    run_main_track(pilot)
    pilot.settle(leave=("inspection_decision", "decision_posted"))

    pilot.register(answer_for("inspection_decision", pilot.now.date()))

    assert pilot.state.inspections
    assert pilot.state.inspection_closed_without_decision is None


def test_on_the_first_edition_of_the_rules_the_pilot_waits_for_an_inspection_decision():
    pilot = PilotDriver(LFR_SKOLA, rules=FIRST_EDITION)
    pilot.start()
    pilot.advance()
    run_main_track(pilot)
    pilot.settle(leave=("inspection_decision",))

    assert pilot.state.completed_phases[:3] == [Phase.DEEP_ANALYSIS, Phase.DEVELOPMENT_PLAN, Phase.IMPLEMENTATION]
    assert pilot.state.active_phases == [Phase.INSPECTION_COMPARISON]
    assert pilot.state.completed_at is None
    assert not any(isinstance(e, PilotCompleted) for e in pilot.events)


def test_registering_a_decision_after_the_pilot_completed_is_refused_saying_so(pilot):
    run_main_track(pilot)
    pilot.settle(leave=("inspection_decision",))

    with pytest.raises(TaskRejected) as refused:
        pilot.register(answer_for("inspection_decision", pilot.now.date()))

    assert refused.value.code == "pilot_ended"
    assert f"the pilot completed on {pilot.now:%Y-%m-%d}" in refused.value.message


def test_the_pilot_is_not_completed_while_a_remediation_step_is_open(pilot):
    pilot.complete("inspection_decision")
    run_main_track(pilot)
    pilot.settle(leave=("remediation",))

    assert [t.template_key for t in pilot.state.open_tasks()] == ["remediation"] * 4
    assert pilot.state.active_phases == [Phase.INSPECTION_COMPARISON]
    assert pilot.state.completed_at is None


def test_the_pilot_completes_when_its_last_phase_completes(pilot):
    pilot.complete("inspection_decision")
    run_main_track(pilot)
    pilot.settle(leave=("remediation",))
    *first, last = [t.key for t in pilot.state.open_tasks()]
    pilot.complete_all(*first)
    pilot.tick(timedelta(days=3))

    events = pilot.complete(last)

    assert [type(e) for e in events[-2:]] == [PhaseCompleted, PilotCompleted]
    assert events[-2].phase is Phase.INSPECTION_COMPARISON
    assert pilot.state.completed_at == pilot.now
    assert pilot.state.active_phases == []


def test_a_settled_inspection_track_completes_as_soon_as_the_main_track_does(pilot):
    pilot.complete_all("inspection_decision", "remediation")

    run_main_track(pilot)

    assert phase_changes(pilot.events)[-2:] == [
        (PhaseCompleted, Phase.IMPLEMENTATION),
        (PhaseCompleted, Phase.INSPECTION_COMPARISON),
    ]


def test_the_pilot_completes_only_once_every_namnd_decision_has_become_final(pilot):
    pilot.complete_all("inspection_decision", "remediation")
    run_main_track(pilot)
    assert pilot.state.completed_at is None

    pilot.settle()

    assert set(pilot.state.final_decisions) == {d.task_key for d in pilot.state.decisions}
    assert [type(e) for e in pilot.events[-2:]] == [PhaseCompleted, PilotCompleted]
    assert pilot.events[-2].phase is Phase.DECISION_FOLLOW_UP


def test_advance_on_a_completed_pilot_returns_nothing(pilot):
    pilot.complete_all("inspection_decision", "remediation")
    run_main_track(pilot)
    pilot.settle()
    assert pilot.state.completed_at is not None

    assert advance(pilot.template, pilot.state, now=pilot.now, new_id=pilot.new_id) == []
