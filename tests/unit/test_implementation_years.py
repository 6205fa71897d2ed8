"""The implementation phase as a yearly SKA cycle: years start, their tasks open, the plan's last year ends it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from devstack.sample_payloads import answer_for
from domain.events import (
    DecisionRecorded,
    ImplementationYearStarted,
    PhaseCompleted,
    PilotCompleted,
    TaskCompleted,
    TaskOpened,
)
from domain.moments import end_of_office_day
from domain.phases import MAIN_TRACK, PARALLEL_TRACKS, Phase
from domain.rules import advance, next_year_starts_at, start_next_year
from programmes import LFR_SKOLA

BEFORE_IMPLEMENTATION = (
    "kpi_data_pack",
    "document_collection",
    "self_assessment",
    "strengths_weaknesses",
    "analysis_reported",
    "inspection_decision",
    "remediation",
)


def opened(events, phase: Phase | None = None):
    return [e.task_key for e in events if isinstance(e, TaskOpened) and phase in (None, e.phase)]


def years_started(events):
    return [e.year for e in events if isinstance(e, ImplementationYearStarted)]


def plan_for(pilot, years: int) -> None:
    """Everything before the implementation, with a plan that runs `years` years."""
    pilot.complete_all(*BEFORE_IMPLEMENTATION)
    pilot.complete("plan_draft", answer_for("plan_draft", pilot.now.date()) | {"period_years": years})
    pilot.complete_all("consult_hr", "consult_finance", "plan_adoption")


def open_in_year(pilot, year: int) -> list[str]:
    return [t.key for t in pilot.state.open_tasks() if t.year == year]


def finish(pilot, year: int) -> None:
    """Complete the year's instances, and those they open, until none of that year is open."""
    while keys := open_in_year(pilot, year):
        pilot.complete_all(*keys)


def no_revision(pilot, year: int) -> None:
    """The year's SKA cycle up to a planning that needs no revised plan."""
    pilot.complete_all(f"ska_follow_up@y{year}", f"ska_analysis@y{year}")
    planning = answer_for("ska_planning", pilot.now.date(), year=year) | {"plan_revision_needed": False}
    pilot.complete(f"ska_planning@y{year}", planning)


@pytest.fixture
def walked(walked_pilot):
    """LFR_SKOLA from start to PilotCompleted: every instance answered, each next year started once one is done."""
    return walked_pilot(LFR_SKOLA)


# the whole walk


def test_the_walk_of_the_skl_template_ends_in_pilot_completed(walked):
    assert isinstance(walked.events[-1], PilotCompleted)
    assert walked.state.completed_at == walked.now
    assert walked.state.active_phases == []
    assert sorted(walked.state.completed_phases) == sorted(
        (*MAIN_TRACK, *PARALLEL_TRACKS)
    )  # not NETWORK: it never ends


def test_the_walk_starts_exactly_one_implementation_year_per_plan_year(walked):
    assert walked.state.plan_years == 3
    assert years_started(walked.events) == [1, 2, 3]
    assert walked.state.implementation_year == 3


def test_the_walks_years_start_one_year_length_apart(walked):
    starts = [e.occurred_at for e in walked.events if isinstance(e, ImplementationYearStarted)]

    assert [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)] == [LFR_SKOLA.year_length] * 2
    assert LFR_SKOLA.year_length == timedelta(days=365)


def test_the_walk_completes_every_yearly_task_once_a_year(walked):
    completed = [e.task_key for e in walked.events if isinstance(e, TaskCompleted)]

    for year in (1, 2, 3):
        assert f"ska_follow_up@y{year}" in completed
        assert f"ska_analysis@y{year}" in completed
        assert f"ska_planning@y{year}" in completed
        assert f"measure_progress@y{year}/M1.1" in completed
        assert f"change_project@y{year}/p-rektor" in completed
        assert f"funding_application@y{year}" in completed
        assert f"annual_report@y{year}" in completed
    assert len(completed) == len(set(completed)) == len(walked.state.tasks)
    assert walked.state.open_tasks() == []


def test_the_walk_records_the_analysis_the_plan_an_annual_report_each_year_and_the_revision(walked):
    # the synthetic planning of year 2 asks for a revised plan, and only year 2's
    assert [e.task_key for e in walked.events if isinstance(e, DecisionRecorded)] == [
        "analysis_reported",
        "plan_adoption",
        "annual_report@y1",
        "plan_revision@y2",
        "annual_report@y2",
        "annual_report@y3",
    ]


def test_the_walk_completes_the_implementation_with_the_last_years_annual_report(walked):
    [done] = [
        i for i, e in enumerate(walked.events) if isinstance(e, PhaseCompleted) and e.phase is Phase.IMPLEMENTATION
    ]
    implementation_completions = [
        i
        for i, e in enumerate(walked.events)
        if isinstance(e, TaskCompleted) and walked.state.tasks[e.task_key].phase is Phase.IMPLEMENTATION
    ]

    assert walked.events[implementation_completions[-1]].task_key == "annual_report@y3"
    assert implementation_completions[-1] < done
    assert walked.events[done].occurred_at == walked.events[implementation_completions[-1]].occurred_at
    assert isinstance(walked.events[-1], PilotCompleted)


def test_nothing_follows_the_walk(walked):
    assert advance(LFR_SKOLA, walked.state, now=walked.now, new_id=walked.new_id) == []
    assert next_year_starts_at(LFR_SKOLA, walked.state) is None


def test_the_walk_folds_to_one_version_per_event_each_with_its_own_id(walked):
    assert walked.state.version == len(walked.events)
    assert len({e.event_id for e in walked.events}) == len(walked.events)


# year 1


def test_year_1_starts_with_the_implementation_phase_and_opens_its_independent_tasks(pilot):
    pilot.complete_all(*BEFORE_IMPLEMENTATION, "plan_draft", "consult_hr", "consult_finance")

    events = pilot.complete("plan_adoption")

    assert years_started(events) == [1]
    assert pilot.state.implementation_year_started_at == pilot.now
    assert opened(events, Phase.IMPLEMENTATION) == [
        "follow_up_figures@y1",
        "measure_progress@y1/M1.1",
        "change_project@y1/p-politiker",
        "change_project@y1/p-forvaltningschef",
        "change_project@y1/p-rektor",
        "change_project@y1/p-hr",
        "change_project@y1/p-ekonomi",
        "funding_application@y1",
        "ska_follow_up@y1",  # once the system has gathered the year's figures, which it does at once
    ]
    # 120 days from 2024-09-02 is nyårsafton, a day off: the deadline moves to the end of 2 January.
    assert pilot.now + timedelta(days=120) == datetime(2024, 12, 31, 8, 0, tzinfo=UTC)
    assert pilot.state.tasks["ska_follow_up@y1"].due_at == end_of_office_day(date(2025, 1, 2))


def test_the_ska_cycle_runs_follow_up_analysis_planning_then_the_annual_report(implementing):
    assert opened(implementing.complete("ska_follow_up@y1")) == ["ska_analysis@y1"]
    assert opened(implementing.complete("ska_analysis@y1")) == ["ska_planning@y1"]
    assert opened(implementing.complete("ska_planning@y1")) == []
    implementing.complete_all("measure_progress", "change_project")

    assert opened(implementing.complete("funding_application@y1")) == ["annual_report@y1"]


def test_the_annual_report_waits_for_every_change_project_of_the_year(implementing):
    implementing.complete_all("ska_follow_up", "ska_analysis", "ska_planning", "measure_progress")
    implementing.complete_all("funding_application", "change_project@y1/p-politiker", "change_project@y1/p-rektor")

    assert "annual_report@y1" not in implementing.state.tasks


# the year boundary


def test_the_next_year_starts_one_year_length_after_the_last(implementing):
    assert next_year_starts_at(LFR_SKOLA, implementing.state) == implementing.now + LFR_SKOLA.year_length


def test_there_is_no_next_year_before_the_implementation(pilot):
    assert next_year_starts_at(LFR_SKOLA, pilot.state) is None


def test_there_is_no_year_after_the_plans_last(implementing):
    implementing.next_year()
    implementing.next_year()

    assert implementing.state.implementation_year == 3
    assert next_year_starts_at(LFR_SKOLA, implementing.state) is None


def test_finishing_a_years_tasks_early_neither_starts_the_next_year_nor_ends_the_phase(implementing):
    implementing.finish_year()

    assert implementing.state.implementation_year == 1
    assert Phase.IMPLEMENTATION in implementing.state.active_phases
    assert advance(LFR_SKOLA, implementing.state, now=implementing.now, new_id=implementing.new_id) == []


def test_starting_the_next_year_records_the_year_and_when_it_began(implementing):
    boundary = next_year_starts_at(LFR_SKOLA, implementing.state)

    [event] = start_next_year(implementing.state, now=boundary, new_id=implementing.new_id)

    assert isinstance(event, ImplementationYearStarted)
    assert (event.year, event.occurred_at) == (2, boundary)


def test_the_next_years_instances_open_at_its_start_with_deadlines_from_it(implementing):
    implementing.finish_year()

    events = implementing.next_year()

    assert years_started(events) == [2]
    assert "ska_follow_up@y2" in opened(events)
    assert "ska_analysis@y2" not in opened(events)  # it waits for this year's follow-up, not last year's
    # 120 days from the year's start, 2025-09-02, is 2025-12-31, nyårsafton: the deadline is 2 January at 16:00.
    assert implementing.now == datetime(2025, 9, 2, 8, 0, tzinfo=UTC)
    assert implementing.state.tasks["ska_follow_up@y2"].due_at == end_of_office_day(date(2026, 1, 2))


def test_a_year_left_unfinished_stays_open_when_the_next_begins(implementing):
    implementing.next_year()

    assert "ska_follow_up@y1" in open_in_year(implementing, 1)
    assert "ska_follow_up@y2" in open_in_year(implementing, 2)


def test_the_last_year_does_not_end_the_implementation_while_an_earlier_year_has_open_tasks(implementing):
    implementing.next_year()
    implementing.next_year()

    finish(implementing, 3)
    finish(implementing, 1)

    assert Phase.IMPLEMENTATION in implementing.state.active_phases
    no_revision(implementing, 2)  # so year 2 only finishes what it has, and changes no plan
    finish(implementing, 2)
    assert Phase.IMPLEMENTATION in implementing.state.completed_phases


def test_a_one_year_plan_ends_the_implementation_in_year_1(pilot):
    plan_for(pilot, years=1)

    pilot.finish_year()

    assert years_started(pilot.events) == [1]
    assert isinstance(pilot.events[-1], PilotCompleted)


def test_a_two_year_plan_ends_the_implementation_in_year_2(pilot):
    plan_for(pilot, years=2)
    pilot.finish_year()
    assert pilot.state.completed_at is None

    pilot.next_year()
    no_revision(pilot, 2)
    pilot.finish_year()

    assert years_started(pilot.events) == [1, 2]
    assert "plan_revision@y2" not in pilot.state.tasks
    assert pilot.state.completed_at is not None
    assert next_year_starts_at(LFR_SKOLA, pilot.state) is None


def test_a_revised_plan_in_force_sets_the_years_the_implementation_runs(pilot):
    plan_for(pilot, years=2)
    pilot.finish_year()
    pilot.next_year()
    pilot.complete_all("ska_follow_up@y2", "ska_analysis@y2", "ska_planning@y2")  # the synthetic year 2 revises

    pilot.complete("plan_revision@y2")  # the synthetic revision runs three years
    pilot.finish_year()

    assert pilot.state.plan_years == 3
    assert Phase.IMPLEMENTATION in pilot.state.active_phases
    assert next_year_starts_at(LFR_SKOLA, pilot.state) is not None
