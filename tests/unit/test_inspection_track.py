"""The inspection track in a pilot: a Skolinspektionen decision registered, its findings remedied or cleared."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devstack.sample_payloads import inspection_decision, inspection_follow_up
from domain.events import (
    InspectionCompared,
    InspectionDecisionRegistered,
    RemediationEnded,
    RemediationScheduled,
    TaskClosed,
    TaskOpened,
)
from domain.moments import end_of_office_day
from domain.refusals import TaskRejected
from domain.rulebook import FIRST_EDITION
from domain.state import TaskStatus
from programmes import LFR_SKOLA
from tests.unit.conftest import PilotDriver

DIARIENUMMER = "SI-2024:1861-SYNTETISK"
STEPS = ("atgardsplan", "atgarder_genomforda", "namndbeslut_redovisning", "redovisning_inskickad")


def step(key: str) -> str:
    return f"remediation@{DIARIENUMMER}#1/{key}"


@pytest.fixture
def registered(pilot):
    """A pilot whose inspection decision (a föreläggande and a development area) has been registered."""
    pilot.complete("inspection_decision")
    return pilot


def follow_up(pilot, *, cleared: bool) -> dict:
    original = pilot.state.inspections[DIARIENUMMER].decision
    return inspection_follow_up(original, pilot.now.date() - timedelta(days=1), cleared=cleared)


def registration_error(pilot, payload: dict, participant_id: str = "p-analytiker") -> TaskRejected:
    with pytest.raises(TaskRejected) as caught:
        pilot.register(payload, participant_id)
    return caught.value


def test_completing_the_inspection_decision_registers_it(registered):
    decision = registered.state.inspections[DIARIENUMMER]

    assert decision.registered_by == "p-analytiker"
    assert decision.decision == registered.state.tasks["inspection_decision"].payload


def test_only_a_finding_with_a_reporting_deadline_is_scheduled_for_remediation(registered):
    [schedule] = registered.state.remediation.values()

    assert (schedule.diarienummer, schedule.finding_index) == (DIARIENUMMER, 0)  # the föreläggande, not finding 1
    assert [s.key for s in schedule.steps] == list(STEPS)
    assert schedule.steps[-1].due == schedule.deadline


def test_each_remediation_step_opens_for_its_owner_due_on_its_scheduled_day(registered):
    [schedule] = registered.state.remediation.values()

    for scheduled in schedule.steps:
        task = registered.state.tasks[step(scheduled.key)]
        assert task.assignee_id == registered.state.primary(scheduled.owner_role)
        assert task.due_at == end_of_office_day(scheduled.due)
        assert task.template_key == "remediation"


def test_the_registration_records_the_decision_then_the_schedule_then_the_steps(pilot):
    events = pilot.complete("inspection_decision")

    kinds = [type(e) for e in events[1:]]
    assert kinds[:2] == [InspectionDecisionRegistered, RemediationScheduled]
    assert [e.task_key for e in events if isinstance(e, TaskOpened)] == [step(key) for key in STEPS]


def test_a_decision_is_compared_with_the_own_analysis_once_that_is_done(registered):
    registered.complete_all("kpi_data_pack", "document_collection", "self_assessment")

    events = registered.complete("strengths_weaknesses")

    assert [e.diarienummer for e in events if isinstance(e, InspectionCompared)] == [DIARIENUMMER]


def test_a_follow_up_that_clears_the_finding_closes_its_open_steps(registered):
    registered.complete(step("atgardsplan"))
    registered.tick(timedelta(days=30))

    events = registered.register(follow_up(registered, cleared=True))

    [ended] = [e for e in events if isinstance(e, RemediationEnded)]
    assert (ended.diarienummer, ended.finding_index, ended.outcome) == (DIARIENUMMER, 0, "avhjalpt")
    assert [e.task_key for e in events if isinstance(e, TaskClosed)] == [step(key) for key in STEPS[1:]]
    assert registered.state.tasks[step("atgardsplan")].status is TaskStatus.COMPLETED
    assert registered.state.tasks[step("redovisning_inskickad")].status is TaskStatus.CLOSED
    assert "avhjälpt" in registered.state.tasks[step("redovisning_inskickad")].closed_reason
    assert registered.state.remediation == {}


def test_a_follow_up_is_not_compared_with_the_own_analysis(registered):
    registered.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    registered.tick(timedelta(days=30))

    events = registered.register(follow_up(registered, cleared=True))

    assert not any(isinstance(e, InspectionCompared) for e in events)
    assert list(registered.state.comparisons) == [DIARIENUMMER]


def test_a_remaining_deficiency_is_scheduled_again_under_the_follow_up_decision(registered):
    registered.tick(timedelta(days=30))
    decision = follow_up(registered, cleared=False)

    events = registered.register(decision)

    [ended] = [e for e in events if isinstance(e, RemediationEnded)]
    assert ended.outcome == "kvarstar"
    [schedule] = registered.state.remediation.values()
    assert schedule.diarienummer == decision["diarienummer"]
    assert f"remediation@{decision['diarienummer']}#1/atgardsplan" in registered.state.tasks
    assert all(registered.state.tasks[step(key)].status is TaskStatus.CLOSED for key in STEPS)


# who may register what


def test_a_participant_outside_the_registrar_roles_may_not_register_a_decision(registered):
    error = registration_error(registered, follow_up(registered, cleared=True), "p-rektor")

    assert error.code == "not_allowed"
    assert "'p-rektor'" in error.message


def test_a_decision_cannot_be_registered_twice(registered):
    registered.register(follow_up(registered, cleared=True))

    error = registration_error(registered, follow_up(registered, cleared=True))

    assert error.code == "invalid_payload"
    assert "already registered" in error.message


def test_a_decision_whose_reporting_deadline_has_passed_is_registered_as_overdue(registered):
    late = inspection_decision(registered.now.date() - timedelta(days=400)) | {"diarienummer": "SI-2023:9"}

    events = registered.register(late)

    [registration] = [e for e in events if isinstance(e, InspectionDecisionRegistered)]
    assert registration.overdue_findings == [0]  # the föreläggande; the development area has no deadline


def test_an_overdue_findings_remediation_is_scheduled_from_its_registration(registered):
    today = registered.now.date()  # Monday 2024-09-02
    late = inspection_decision(today - timedelta(days=400)) | {"diarienummer": "SI-2023:9"}

    events = registered.register(late)

    [schedule] = [e for e in events if isinstance(e, RemediationScheduled)]
    assert schedule.registered_late
    assert schedule.deadline == today - timedelta(days=200)  # the decision's own, kept on the record
    assert [s.due for s in schedule.steps] == [
        today,  # the action plan at once
        today + timedelta(days=39),  # the plan's 60, 21, 10 and 0 days before a report due 60 days from now
        today + timedelta(days=50),
        today + timedelta(days=60),  # 2024-11-01, a Friday
    ]
    opened_steps = [e for e in events if isinstance(e, TaskOpened) and "SI-2023:9" in e.task_key]
    assert min(e.due_at for e in opened_steps).date() == today


def test_on_the_first_edition_of_the_rules_a_decision_past_its_deadline_is_refused():
    pilot = PilotDriver(LFR_SKOLA, rules=FIRST_EDITION)
    pilot.start()
    pilot.advance()
    pilot.complete("inspection_decision")
    late = inspection_decision(pilot.now.date() - timedelta(days=400)) | {"diarienummer": "SI-2023:9"}

    error = registration_error(pilot, late)

    assert error.code == "invalid_payload"
    assert "findings.0.deadline" in error.message
    assert "has already passed" in error.message


def test_a_follow_up_of_a_decision_never_registered_is_refused(registered):
    stray = follow_up(registered, cleared=True) | {"diarienummer": "SI-2024:77", "follow_up_of": "SI-2020:1"}

    error = registration_error(registered, stray)

    assert error.code == "invalid_payload"
    assert "no registered decision SI-2020:1" in error.message
