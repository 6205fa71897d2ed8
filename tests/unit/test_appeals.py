"""Appeals of the nämnd's decisions (laglighetsprövning): recorded, holding finality, and an annulment decided anew."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from devstack.sample_payloads import answer_for, namnd_decision
from domain.appeals import AppealStep, appeal_events, check_appeal, decision_standings
from domain.events import (
    AppealDecided,
    DecisionAppealed,
    DecisionBecameFinal,
    DecisionRecorded,
    PhaseStarted,
    PilotCompleted,
    TaskClosed,
    TaskReopened,
)
from domain.phases import Phase
from domain.refusals import TaskRejected
from domain.state import TaskStatus
from programmes import LFR_SKOLA
from tests.unit.conftest import PilotDriver

LEAD = "p-programledare"
COURT = "Förvaltningsrätten i Karlstad"
CASE = "1234-24"


def lodged(decision_key: str, lodged_on: date, case: str = CASE) -> AppealStep:
    return AppealStep(
        action="lodged", decision_key=decision_key, actor_id=LEAD, case_number=case, court=COURT, lodged_on=lodged_on
    )


def decided(decision_key: str, outcome: str, decided_on: date, case: str = CASE) -> AppealStep:
    return AppealStep(
        action="decided",
        decision_key=decision_key,
        actor_id=LEAD,
        case_number=case,
        outcome=outcome,
        decided_on=decided_on,
    )


def record(pilot: PilotDriver, step: AppealStep) -> list:
    events = appeal_events(pilot.template, pilot.state, step, now=pilot.now, new_id=pilot.new_id, rules=pilot.rules)
    return pilot.record(events) + pilot.advance()


def refusal(pilot: PilotDriver, step: AppealStep) -> TaskRejected:
    with pytest.raises(TaskRejected) as refused:
        check_appeal(pilot.state, step, today=pilot.now.date())
    return refused.value


@pytest.fixture
def reported(pilot: PilotDriver) -> PilotDriver:
    """A pilot whose analysis the nämnd took note of at a meeting today, its minutes posted today as well."""
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    today = pilot.now.date()
    pilot.complete("analysis_reported", namnd_decision(today, 41, "analysen anmäls"))
    pilot.complete(
        "decision_posted@analysis_reported",
        {"justering_date": today.isoformat(), "anslag_date": today.isoformat()},
    )
    return pilot


def test_an_appeal_lodged_in_time_is_recorded_and_keeps_the_decision_from_becoming_final(reported):
    events = record(reported, lodged("analysis_reported", reported.now.date()))

    [appealed] = [e for e in events if isinstance(e, DecisionAppealed)]
    assert (appealed.decision_key, appealed.court, appealed.case_number, appealed.by) == (
        "analysis_reported",
        COURT,
        CASE,
        LEAD,
    )
    reported.tick(timedelta(days=40))  # well past the appeal period
    assert reported.decisions_become_final() == []
    [standing] = decision_standings(reported.state)
    assert standing.status == "overklagad"


def test_an_upheld_decision_becomes_final_once_the_court_has_decided(reported):
    record(reported, lodged("analysis_reported", reported.now.date()))
    reported.tick(timedelta(days=40))

    record(reported, decided("analysis_reported", "avslaget", reported.now.date()))
    final = reported.decisions_become_final()

    assert [type(e) for e in final][:1] == [DecisionBecameFinal]
    assert decision_standings(reported.state)[0].status == "laga_kraft"


@pytest.mark.parametrize("outcome", ["avvisat", "delvis_upphavt"])
def test_a_dismissed_or_partly_annulled_decision_stands_and_becomes_final(reported, outcome):
    record(reported, lodged("analysis_reported", reported.now.date()))
    reported.tick(timedelta(days=40))

    record(reported, decided("analysis_reported", outcome, reported.now.date()))

    assert "analysis_reported" in [e.decision_task_key for e in reported.decisions_become_final()]


def test_an_annulled_decision_reopens_its_task_with_a_new_deadline(reported):
    record(reported, lodged("analysis_reported", reported.now.date()))
    reported.tick(timedelta(days=30))

    events = record(reported, decided("analysis_reported", "upphavt", reported.now.date()))

    [outcome] = [e for e in events if isinstance(e, AppealDecided)]
    assert outcome.outcome == "upphavt"
    [reopened] = [e for e in events if isinstance(e, TaskReopened)]
    assert reopened.task_key == "analysis_reported" and CASE in reopened.reason
    task = reported.state.tasks["analysis_reported"]
    assert task.status is TaskStatus.OPEN and task.payload is None and task.reopened == 1
    # 45 days from now, the task's own time, on a working day
    assert task.due_at is not None and task.due_at.date() >= reported.now.date() + timedelta(days=45)
    assert decision_standings(reported.state)[0].status == "upphavd"


def test_the_decision_taken_anew_has_its_own_key_posting_and_finality(reported):
    record(reported, lodged("analysis_reported", reported.now.date()))
    reported.tick(timedelta(days=30))
    record(reported, decided("analysis_reported", "upphavt", reported.now.date()))

    events = reported.complete("analysis_reported", namnd_decision(reported.now.date(), 77, "analysen anmäls igen"))

    [again] = [e for e in events if isinstance(e, DecisionRecorded)]
    assert again.key == "analysis_reported/2" and again.task_key == "analysis_reported"
    assert "decision_posted@analysis_reported/2" in reported.state.tasks
    assert [s.status for s in decision_standings(reported.state)] == ["upphavd", "beslutad"]


def test_minutes_not_yet_posted_need_no_posting_once_the_decision_is_annulled(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    pilot.complete("analysis_reported", namnd_decision(pilot.now.date(), 41, "analysen anmäls"))
    record(pilot, lodged("analysis_reported", pilot.now.date()))

    events = record(pilot, decided("analysis_reported", "upphavt", pilot.now.date()))

    [closed] = [e for e in events if isinstance(e, TaskClosed)]
    assert closed.task_key == "decision_posted@analysis_reported"


def test_an_appeal_learnt_of_after_the_decision_became_final_makes_it_not_final(reported):
    reported.tick(timedelta(days=30))
    reported.decisions_become_final()
    assert "analysis_reported" in reported.state.final_decisions

    record(reported, lodged("analysis_reported", reported.now.date() - timedelta(days=25)))

    assert "analysis_reported" not in reported.state.final_decisions
    assert decision_standings(reported.state)[0].status == "overklagad"


def test_the_pilot_does_not_complete_while_an_appeal_is_pending():
    pilot = PilotDriver(LFR_SKOLA)
    pilot.start()
    pilot.advance()
    pilot.complete_all("inspection_decision", "remediation")
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    pilot.complete("analysis_reported")
    pilot.complete("plan_draft", answer_for("plan_draft", pilot.now.date()) | {"period_years": 1})
    pilot.settle(leave=("decision_posted",))
    pilot.complete_all("decision_posted")
    adoption = pilot.state.postings["plan_adoption"]
    record(pilot, lodged("plan_adoption", adoption.anslag_date))  # lodged in time, learnt of now

    pilot.settle()

    assert "plan_adoption" not in pilot.state.final_decisions
    assert pilot.state.completed_at is None
    record(pilot, decided("plan_adoption", "avslaget", pilot.now.date()))
    pilot.decisions_become_final()
    assert isinstance(pilot.events[-1], PilotCompleted)


def test_an_appeal_of_a_decision_whose_track_had_completed_follows_the_decisions_up_again(reported):
    reported.state.active_phases.remove(Phase.DECISION_FOLLOW_UP)  # as if every decision had been final

    events = record(reported, lodged("analysis_reported", reported.now.date()))

    assert any(isinstance(e, PhaseStarted) and e.phase is Phase.DECISION_FOLLOW_UP for e in events)


@pytest.mark.parametrize(
    ("step", "field", "says"),
    [
        (lodged("plan_adoption", date(2024, 9, 2)), "decision_key", "no decision 'plan_adoption'"),
        (lodged("analysis_reported", date(2024, 9, 1)), "lodged_on", "before the meeting"),
        (lodged("analysis_reported", date(2024, 9, 3)), "lodged_on", "in the future"),
        (decided("analysis_reported", "avslaget", date(2024, 9, 2)), "case_number", "no pending appeal"),
    ],
)
def test_an_appeal_step_that_does_not_fit_the_pilot_is_refused_naming_the_field(reported, step, field, says):
    error = refusal(reported, step)

    assert error.message.startswith(f"{field}: ") and says in error.message


def test_an_appeal_lodged_after_its_period_is_refused_as_too_late(reported):
    reported.tick(timedelta(days=60))

    error = refusal(reported, lodged("analysis_reported", reported.now.date()))

    assert "after the appeal period ended" in error.message and "avvisas" in error.message


def test_the_same_case_cannot_be_recorded_twice_and_an_outcome_cannot_precede_the_appeal(reported):
    record(reported, lodged("analysis_reported", reported.now.date()))

    assert "already recorded" in refusal(reported, lodged("analysis_reported", reported.now.date())).message
    early = decided("analysis_reported", "avslaget", reported.now.date() - timedelta(days=1))
    assert refusal(reported, early).message.startswith("decided_on: ")


def test_nothing_is_recorded_in_a_pilot_that_has_ended(reported):
    reported.state.completed_at = reported.now

    error = refusal(reported, lodged("analysis_reported", reported.now.date()))

    assert error.code == "pilot_ended"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"action": "lodged", "case_number": CASE, "court": COURT}, "needs lodged_on"),
        ({"action": "decided", "case_number": CASE, "outcome": "upphavt"}, "needs decided_on"),
        (
            {"action": "lodged", "case_number": CASE, "court": COURT, "lodged_on": "2024-09-02", "outcome": "upphavt"},
            "outcome belong to the other step",
        ),
        ({"action": "lodged", "case_number": "x", "court": COURT, "lodged_on": "2024-09-02"}, "case_number"),
        ({"action": "lodged", "case_number": CASE, "court": "Rätt\nen", "lodged_on": "2024-09-02"}, "court"),
    ],
)
def test_a_malformed_appeal_step_is_refused_before_it_reaches_a_pilot(fields, says):
    with pytest.raises(ValidationError, match=says):
        AppealStep(decision_key="analysis_reported", actor_id=LEAD, **fields)
