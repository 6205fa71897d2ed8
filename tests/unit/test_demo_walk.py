"""A whole pilot on the DEMO template, every task answered with the synthetic answers, from start to PilotCompleted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.events import (
    DecisionRecorded,
    InspectionCompared,
    PhaseCompleted,
    PhaseStarted,
    PilotCompleted,
    PilotStarted,
    TaskCompleted,
)
from domain.phases import Phase
from domain.programmes import DEMO
from domain.rules import advance


@pytest.fixture
def walked(driver_for):
    """Start, then keep completing the longest-open task (the system does kpi_data_pack) until nothing is open."""
    driver = driver_for(DEMO)
    driver.start()
    driver.advance()
    for _ in range(len(DEMO.tasks)):
        open_tasks = driver.state.open_tasks()
        if not open_tasks:
            break
        driver.tick(timedelta(seconds=1))
        driver.complete(open_tasks[0].key)
    return driver


def phase_events(events):
    return [(type(e).__name__, e.phase) for e in events if isinstance(e, PhaseStarted | PhaseCompleted)]


def test_the_walk_ends_in_pilot_completed(walked):
    assert isinstance(walked.events[0], PilotStarted)
    assert isinstance(walked.events[-1], PilotCompleted)
    assert walked.state.completed_at == walked.now


def test_the_walk_completes_every_task_of_the_template(walked):
    assert sorted(e.task_key for e in walked.events if isinstance(e, TaskCompleted)) == sorted(
        t.key for t in DEMO.tasks
    )


def test_the_walk_goes_through_the_phases_in_order(walked):
    assert phase_events(walked.events) == [
        ("PhaseStarted", Phase.DEEP_ANALYSIS),
        ("PhaseStarted", Phase.INSPECTION_COMPARISON),
        ("PhaseCompleted", Phase.DEEP_ANALYSIS),
        ("PhaseStarted", Phase.DEVELOPMENT_PLAN),
        ("PhaseCompleted", Phase.INSPECTION_COMPARISON),
        ("PhaseCompleted", Phase.DEVELOPMENT_PLAN),
        ("PhaseStarted", Phase.IMPLEMENTATION),
        ("PhaseCompleted", Phase.IMPLEMENTATION),
    ]


def test_each_main_phase_starts_only_after_the_one_before_completed(walked):
    positions = {
        (type(e), e.phase): i for i, e in enumerate(walked.events) if isinstance(e, PhaseStarted | PhaseCompleted)
    }

    assert positions[(PhaseCompleted, Phase.DEEP_ANALYSIS)] < positions[(PhaseStarted, Phase.DEVELOPMENT_PLAN)]
    assert positions[(PhaseCompleted, Phase.DEVELOPMENT_PLAN)] < positions[(PhaseStarted, Phase.IMPLEMENTATION)]


def test_the_walk_compares_with_the_inspection_once(walked):
    assert sum(isinstance(e, InspectionCompared) for e in walked.events) == 1
    assert {i.factor for i in walked.state.comparison if i.classification == "agreed"} == {"SF4", "SF7"}


def test_the_walk_records_the_three_namnd_decisions(walked):
    decisions = [e.task_key for e in walked.events if isinstance(e, DecisionRecorded)]

    assert decisions == ["analysis_reported", "plan_adoption", "annual_report"]


def test_the_walk_leaves_every_phase_completed_and_none_active(walked):
    assert walked.state.active_phases == []
    assert sorted(walked.state.completed_phases) == sorted(Phase)


def test_the_walk_folds_to_one_version_per_event(walked):
    assert walked.state.version == len(walked.events)


def test_every_event_of_the_walk_has_its_own_id(walked):
    assert len({e.event_id for e in walked.events}) == len(walked.events)


def test_nothing_follows_the_completed_walk(walked):
    assert advance(DEMO, walked.state, now=walked.now, new_id=walked.new_id) == []
