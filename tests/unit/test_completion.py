"""`check_completion` and `completion_events`: who may complete what, and what a completion records."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from devstack.sample_payloads import answer_for, namnd_decision
from domain.events import DecisionRecorded, TaskCompleted
from domain.payloads import KpiDataPack, NamndDecision, SelfAssessment
from domain.roles import Role
from domain.rules import TaskRejected, check_completion, completion_events

TODAY = date(2024, 9, 2)


def rejection(pilot, task_key: str, participant_id: str, payload: dict[str, Any], *, by_system: bool = False):
    with pytest.raises(TaskRejected) as caught:
        check_completion(pilot.template, pilot.state, task_key, participant_id, payload, by_system=by_system)
    return caught.value


def test_a_valid_completion_returns_the_validated_payload(pilot, assignees):
    payload = check_completion(
        pilot.template,
        pilot.state,
        "self_assessment",
        assignees[Role.FORVALTNINGSCHEF],
        answer_for("self_assessment", TODAY),
    )

    assert isinstance(payload, SelfAssessment)
    assert payload.scores["SF4.e"] == 2


def test_completing_an_unknown_task_is_rejected(pilot, assignees):
    error = rejection(pilot, "budget_review", assignees[Role.EKONOMI], {})

    assert error.code == "unknown_task"
    assert "'budget_review'" in error.message
    assert "self_assessment" in error.message  # the message lists the tasks there are


def test_completing_a_task_that_has_not_opened_is_rejected(pilot, assignees):
    error = rejection(
        pilot, "strengths_weaknesses", assignees[Role.FORVALTNINGSCHEF], answer_for("strengths_weaknesses", TODAY)
    )

    assert error.code == "not_open"
    assert "'strengths_weaknesses'" in error.message


def test_completing_a_task_twice_is_rejected(pilot, assignees):
    pilot.complete("self_assessment")

    error = rejection(pilot, "self_assessment", assignees[Role.FORVALTNINGSCHEF], answer_for("self_assessment", TODAY))

    assert error.code == "already_completed"
    assert assignees[Role.FORVALTNINGSCHEF] in error.message
    assert "2024-09-02 08:00:00" in error.message


def test_completing_someone_elses_task_is_rejected(pilot, assignees):
    error = rejection(pilot, "self_assessment", assignees[Role.REKTOR], answer_for("self_assessment", TODAY))

    assert error.code == "not_assignee"
    assert assignees[Role.REKTOR] in error.message
    assert assignees[Role.FORVALTNINGSCHEF] in error.message


def test_a_participant_cannot_complete_the_system_task_even_as_its_assignee(pilot, assignees, kpi_pack):
    error = rejection(pilot, "kpi_data_pack", assignees[Role.ANALYTIKER], kpi_pack)

    assert error.code == "automated"
    assert "'kpi_data_pack'" in error.message


def test_the_system_may_complete_the_automated_task(pilot, kpi_pack):
    payload = check_completion(pilot.template, pilot.state, "kpi_data_pack", "system", kpi_pack, by_system=True)

    assert isinstance(payload, KpiDataPack)
    assert payload.municipalities == ["1861", "0000"]


def test_an_invalid_payload_is_rejected_naming_the_field(pilot, assignees):
    answer = answer_for("self_assessment", TODAY)
    answer["scores"]["SF1.a"] = 5

    error = rejection(pilot, "self_assessment", assignees[Role.FORVALTNINGSCHEF], answer)

    assert error.code == "invalid_payload"
    assert "scores.SF1.a" in error.message


def test_the_payload_is_checked_only_after_the_participant(pilot, assignees):
    error = rejection(pilot, "self_assessment", assignees[Role.REKTOR], {"level": "X"})

    assert error.code == "not_assignee"


# completion_events


def test_completing_a_task_records_who_completed_it_with_what(pilot, assignees):
    payload = SelfAssessment.model_validate(answer_for("self_assessment", TODAY))

    [event] = completion_events(
        pilot.template, "self_assessment", assignees[Role.FORVALTNINGSCHEF], payload, now=pilot.now, new_id=pilot.new_id
    )

    assert isinstance(event, TaskCompleted)
    assert event.completed_by == assignees[Role.FORVALTNINGSCHEF]
    assert event.payload == payload.model_dump(mode="json")
    assert event.occurred_at == pilot.now


def test_a_namnd_decision_gets_the_latest_dates_for_justering_anslag_and_appeal(pilot, assignees):
    # The minutes are approved (justering) within 14 days of the meeting: 2016-09-15 + 14 days = 2016-09-29.
    # The approval is announced (anslag) within 2 days after that:          2016-09-29 + 2 days = 2016-10-01.
    # Anyone may appeal (laglighetsprövning) within 3 weeks of the anslag:  2016-10-01 + 21 days = 2016-10-22.
    decision = NamndDecision.model_validate(namnd_decision(date(2016, 9, 15), 54, "analysen anmäls"))

    events = completion_events(
        pilot.template,
        "analysis_reported",
        assignees[Role.NAMNDSEKRETERARE],
        decision,
        now=pilot.now,
        new_id=pilot.new_id,
    )

    [recorded] = [e for e in events if isinstance(e, DecisionRecorded)]
    assert recorded.meeting_date == date(2016, 9, 15)
    assert recorded.justering_due == date(2016, 9, 29)
    assert recorded.anslag_due == date(2016, 10, 1)
    assert recorded.appeal_period_ends_latest == date(2016, 10, 22)


def test_a_namnd_decision_records_the_paragraph_and_diarienummer_from_the_minutes(pilot, assignees):
    decision = NamndDecision.model_validate(namnd_decision(date(2016, 9, 15), 54, "analysen anmäls"))

    events = completion_events(
        pilot.template, "plan_adoption", assignees[Role.NAMNDSEKRETERARE], decision, now=pilot.now, new_id=pilot.new_id
    )

    assert [type(e) for e in events] == [TaskCompleted, DecisionRecorded]
    recorded = events[1]
    assert (recorded.task_key, recorded.organ, recorded.paragraph, recorded.diarienummer) == (
        "plan_adoption",
        "Bildningsnämnden",
        54,
        "BN/2016:154",
    )


def test_a_recorded_decision_is_kept_in_the_state(pilot):
    pilot.complete_all("kpi_data_pack", "self_assessment", "strengths_weaknesses", "analysis_reported")

    [decision] = pilot.state.decisions
    assert decision.task_key == "analysis_reported"
    assert decision.meeting_date == pilot.now.date()


def test_a_task_that_is_not_a_decision_records_no_decision(pilot, assignees):
    payload = SelfAssessment.model_validate(answer_for("self_assessment", TODAY))

    events = completion_events(
        pilot.template, "self_assessment", assignees[Role.FORVALTNINGSCHEF], payload, now=pilot.now, new_id=pilot.new_id
    )

    assert not any(isinstance(e, DecisionRecorded) for e in events)
