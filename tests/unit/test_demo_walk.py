"""A whole pilot on the DEMO template, every task answered with the synthetic answers, from start to PilotCompleted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.events import (
    DecisionRecorded,
    ImplementationYearStarted,
    InspectionCompared,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    TaskCompleted,
)
from domain.phases import MAIN_TRACK, PARALLEL_TRACKS, Phase
from domain.rules import advance
from programmes import DEMO


@pytest.fixture
def walked(walked_pilot):
    """Start, then keep completing the longest-open task (the system does kpi_data_pack) until the pilot completes."""
    return walked_pilot(DEMO, timedelta(seconds=0.1))  # a demo day apart


def phase_events(events):
    return [(type(e).__name__, e.phase) for e in events if isinstance(e, PhaseStarted | PhaseCompleted)]


def test_the_walk_ends_in_pilot_completed(walked):
    assert isinstance(walked.events[0], PilotStarted)
    assert isinstance(walked.events[-1], PilotCompleted)
    assert walked.state.completed_at == walked.now


def test_the_walk_completes_every_task_of_the_template_at_least_once(walked):
    completed = {walked.state.tasks[e.task_key].template_key for e in walked.events if isinstance(e, TaskCompleted)}

    # plan_revision exists only in a year whose planning asks for one; the synthetic planning does in year 2
    assert completed == {t.key for t in DEMO.tasks}


def test_the_walk_completes_every_instance_it_opened_once(walked):
    completed = [e.task_key for e in walked.events if isinstance(e, TaskCompleted)]

    assert len(completed) == len(set(completed)) == len(walked.state.tasks)
    assert walked.state.open_tasks() == []


def test_the_walk_starts_the_tracks_at_once_and_the_main_phases_in_order(walked):
    started = [p for kind, p in phase_events(walked.events) if kind == "PhaseStarted"]

    assert started == [MAIN_TRACK[0], *PARALLEL_TRACKS, *MAIN_TRACK[1:]]


def test_each_main_phase_starts_only_after_the_one_before_completed(walked):
    positions = {
        (type(e), e.phase): i for i, e in enumerate(walked.events) if isinstance(e, PhaseStarted | PhaseCompleted)
    }

    assert positions[(PhaseCompleted, Phase.DEEP_ANALYSIS)] < positions[(PhaseStarted, Phase.DEVELOPMENT_PLAN)]
    assert positions[(PhaseCompleted, Phase.DEVELOPMENT_PLAN)] < positions[(PhaseStarted, Phase.IMPLEMENTATION)]


def test_the_parallel_tracks_complete_only_after_the_main_track(walked):
    positions = {(type(e), e.phase): i for i, e in enumerate(walked.events) if isinstance(e, PhaseCompleted)}

    for track in PARALLEL_TRACKS:
        assert positions[(PhaseCompleted, track)] > positions[(PhaseCompleted, Phase.IMPLEMENTATION)]


def test_the_walk_runs_the_plans_three_years(walked):
    assert [e.year for e in walked.events if isinstance(e, ImplementationYearStarted)] == [1, 2, 3]


def test_the_demo_years_last_six_seconds(walked):
    starts = [e.occurred_at for e in walked.events if isinstance(e, ImplementationYearStarted)]

    assert [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)] == [DEMO.year_length] * 2


def test_the_walk_compares_with_the_inspection_once(walked):
    assert sum(isinstance(e, InspectionCompared) for e in walked.events) == 1
    [comparison] = walked.state.comparisons.values()
    assert {i.factor for i in comparison if i.classification == "agreed"} == {"SF4", "SF7"}


def test_the_walk_records_the_nämnd_decisions(walked):
    decisions = [e.task_key for e in walked.events if isinstance(e, DecisionRecorded)]

    assert decisions == [
        "analysis_reported",
        "plan_adoption",
        "annual_report@y1",
        "plan_revision@y2",
        "annual_report@y2",
        "annual_report@y3",
    ]


def test_the_walk_leaves_every_phase_completed_and_none_active(walked):
    assert walked.state.active_phases == []
    assert sorted(walked.state.completed_phases) == sorted(
        (*MAIN_TRACK, *PARALLEL_TRACKS)
    )  # not NETWORK: it never ends


def test_the_walk_folds_to_one_version_per_event(walked):
    assert walked.state.version == len(walked.events)


def test_every_event_of_the_walk_has_its_own_id(walked):
    assert len({e.event_id for e in walked.events}) == len(walked.events)


def test_nothing_follows_the_completed_walk(walked):
    assert advance(DEMO, walked.state, now=walked.now, new_id=walked.new_id) == []
