"""`check_completion` and `completion_events`: who may complete what, and what a completion records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from devstack.sample_payloads import answer_for, namnd_decision
from domain.events import DecisionRecorded, TaskCompleted
from domain.payloads import KpiDataPack, NamndDecision, PlanDraft, SelfAssessment
from domain.refusals import TaskRejected
from domain.roles import Role
from domain.rulebook import FIRST_EDITION
from domain.rules import check_completion, completion_events

TODAY = date(2024, 9, 2)
DEEP_ANALYSIS = ("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")


def rejection(pilot, task_key: str, participant_id: str, payload: dict[str, Any], *, by_system: bool = False):
    with pytest.raises(TaskRejected) as caught:
        check_completion(pilot.template, pilot.state, task_key, participant_id, payload, by_system=by_system)
    return caught.value


def chef(participants) -> str:
    return participants[Role.FORVALTNINGSCHEF][0]


def test_a_valid_completion_returns_the_validated_payload(pilot, participants):
    payload = check_completion(
        pilot.template,
        pilot.state,
        "self_assessment@F",
        chef(participants),
        answer_for("self_assessment", TODAY, level="F"),
    )

    assert isinstance(payload, SelfAssessment)
    assert payload.level == "F"
    assert payload.scores["SF4.e"] == 2


def test_completing_an_unknown_task_is_rejected(pilot, participants):
    error = rejection(pilot, "budget_review", participants[Role.EKONOMI][0], {})

    assert error.code == "unknown_task"
    assert "'budget_review'" in error.message
    assert "self_assessment" in error.message  # the message lists the tasks there are


def test_completing_a_task_that_has_not_opened_is_rejected(pilot, participants):
    error = rejection(pilot, "strengths_weaknesses", chef(participants), answer_for("strengths_weaknesses", TODAY))

    assert error.code == "not_open"
    assert "'strengths_weaknesses'" in error.message


def test_an_instance_the_pilot_does_not_have_is_not_open(pilot, participants):
    # self_assessment is a task of the template, but there is no level X, so no such instance ever opens.
    error = rejection(pilot, "self_assessment@X", chef(participants), answer_for("self_assessment", TODAY))

    assert error.code == "not_open"


def test_a_yearly_instance_is_not_open_before_its_year(implementing, participants):
    error = rejection(implementing, "ska_follow_up@y2", participants[Role.ANALYTIKER][0], {})

    assert error.code == "not_open"


def test_completing_a_task_twice_is_rejected(pilot, participants):
    pilot.complete("self_assessment@F")

    error = rejection(pilot, "self_assessment@F", chef(participants), answer_for("self_assessment", TODAY, level="F"))

    assert error.code == "already_completed"
    assert chef(participants) in error.message
    assert "2024-09-02 08:00:00" in error.message


def test_completing_someone_elses_task_is_rejected(pilot, participants):
    rektor = participants[Role.REKTOR][0]

    error = rejection(pilot, "self_assessment@F", rektor, answer_for("self_assessment", TODAY, level="F"))

    assert error.code == "not_assignee"
    assert rektor in error.message
    assert chef(participants) in error.message


def test_a_participant_cannot_complete_the_system_task_even_as_its_assignee(pilot, participants, kpi_pack):
    error = rejection(pilot, "kpi_data_pack", participants[Role.ANALYTIKER][0], kpi_pack)

    assert error.code == "automated"
    assert "'kpi_data_pack'" in error.message


def test_the_system_may_complete_the_automated_task(pilot, kpi_pack):
    payload = check_completion(pilot.template, pilot.state, "kpi_data_pack", "system", kpi_pack, by_system=True)

    assert isinstance(payload, KpiDataPack)
    assert payload.municipalities == ["1861", "0000"]


def test_an_invalid_payload_is_rejected_naming_the_field(pilot, participants):
    answer = answer_for("self_assessment", TODAY, level="F")
    answer["scores"]["SF1.a"] = 5

    error = rejection(pilot, "self_assessment@F", chef(participants), answer)

    assert error.code == "invalid_payload"
    assert "scores.SF1.a" in error.message


def test_a_field_name_with_a_line_break_is_named_on_one_line(pilot, participants):
    # Any key can be sent: the refusal names it with its control characters escaped, still one line.
    answer = answer_for("self_assessment", TODAY, level="F")
    answer["scores"]["SF1.a\n\x1bx"] = "three"  # not a number: refused at the key itself

    error = rejection(pilot, "self_assessment@F", chef(participants), answer)

    assert error.code == "invalid_payload"
    assert "\n" not in error.message and "\x1b" not in error.message
    assert "scores.SF1.a\\n\\x1bx" in error.message


def test_the_payload_is_checked_only_after_the_participant(pilot, participants):
    error = rejection(pilot, "self_assessment@F", participants[Role.REKTOR][0], {"level": "X"})

    assert error.code == "not_assignee"


# refusals that compare a well-formed payload with the pilot itself


def test_a_self_assessment_of_another_level_is_rejected_naming_both_levels(pilot, participants):
    # A valid R self-assessment, handed in on the F instance.
    error = rejection(pilot, "self_assessment@F", chef(participants), answer_for("self_assessment", TODAY, level="R"))

    assert error.code == "invalid_payload"
    assert "level" in error.message
    assert "level F, not R" in error.message


def test_each_level_completes_its_own_instance_with_its_own_level(pilot):
    for level in "PFRS":
        pilot.complete(f"self_assessment@{level}")

    assert {pilot.state.tasks[f"self_assessment@{level}"].payload["level"] for level in "PFRS"} == set("PFRS")


def test_a_namnd_decision_of_another_organ_is_rejected_naming_the_deciding_organ(pilot, participants):
    pilot.complete_all(*DEEP_ANALYSIS)
    answer = answer_for("analysis_reported", TODAY, organ="Kommunstyrelsen")

    error = rejection(pilot, "analysis_reported", participants[Role.NAMNDSEKRETERARE][0], answer)

    assert error.code == "invalid_payload"
    assert "organ" in error.message
    assert "Bildningsnämnden" in error.message
    assert "Kommunstyrelsen" in error.message


def test_a_namnd_decision_of_the_pilots_own_deciding_organ_is_accepted(driver, participants):
    driver.start(deciding_organ="Barn- och utbildningsnämnden")
    driver.advance()
    driver.complete_all(*DEEP_ANALYSIS)

    payload = check_completion(
        driver.template,
        driver.state,
        "analysis_reported",
        participants[Role.NAMNDSEKRETERARE][0],
        answer_for("analysis_reported", TODAY, organ="Barn- och utbildningsnämnden"),
    )

    assert isinstance(payload, NamndDecision)
    assert driver.state.deciding_organ == "Barn- och utbildningsnämnden"


def test_the_default_organ_is_refused_when_the_pilot_decides_in_another(driver, participants):
    driver.start(deciding_organ="Barn- och utbildningsnämnden")
    driver.advance()
    driver.complete_all(*DEEP_ANALYSIS)

    error = rejection(
        driver, "analysis_reported", participants[Role.NAMNDSEKRETERARE][0], answer_for("analysis_reported", TODAY)
    )

    assert error.code == "invalid_payload"
    assert "Barn- och utbildningsnämnden" in error.message


def test_a_plan_goal_for_a_factor_that_was_not_prioritised_is_rejected_naming_the_goal(pilot, participants):
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported")
    plan = answer_for("plan_draft", TODAY)
    plan["goals"].append(plan["goals"][0] | {"addresses_factor": "SF5"})  # SF5 is a strength, not prioritised

    error = rejection(pilot, "plan_draft", chef(participants), plan)

    assert error.code == "invalid_payload"
    assert "goals.1.addresses_factor" in error.message
    assert "SF5" in error.message
    assert "['SF4', 'SF7']" in error.message


def test_a_plan_whose_goals_address_prioritised_factors_is_accepted(pilot, participants):
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported")
    plan = answer_for("plan_draft", TODAY)
    plan["goals"].append(plan["goals"][0] | {"addresses_factor": "SF7"})

    payload = check_completion(pilot.template, pilot.state, "plan_draft", chef(participants), plan)

    assert isinstance(payload, PlanDraft)
    assert [g.addresses_factor for g in payload.goals] == ["SF4", "SF7"]


# completion_events


def test_completing_a_task_records_who_completed_it_with_what(pilot, participants):
    payload = SelfAssessment.model_validate(answer_for("self_assessment", TODAY, level="F"))

    [event] = completion_events(
        pilot.template, "self_assessment@F", chef(participants), payload, now=pilot.now, new_id=pilot.new_id
    )

    assert isinstance(event, TaskCompleted)
    assert event.task_key == "self_assessment@F"
    assert event.completed_by == chef(participants)
    assert event.payload == payload.model_dump(mode="json")
    assert event.occurred_at == pilot.now


def test_a_namnd_decision_gets_the_latest_lawful_dates_for_justering_anslag_and_appeal(pilot, participants):
    # The minutes are approved (justering) within 14 days of the meeting: 2016-09-15 + 14 days = 2016-09-29.
    # The approval is announced (anslag) within 2 days after that:          2016-09-29 + 2 days = 2016-10-01,
    # a Saturday, so the anslag may lawfully wait until Monday 2016-10-03 (lag (1930:173) 2 §).
    # Anyone may appeal (laglighetsprövning) within 3 weeks of the anslag:  2016-10-03 + 21 days = 2016-10-24.
    decision = NamndDecision.model_validate(namnd_decision(date(2016, 9, 15), 54, "analysen anmäls"))

    events = completion_events(
        pilot.template,
        "analysis_reported",
        participants[Role.NAMNDSEKRETERARE][0],
        decision,
        now=pilot.now,
        new_id=pilot.new_id,
    )

    [recorded] = [e for e in events if isinstance(e, DecisionRecorded)]
    assert recorded.meeting_date == date(2016, 9, 15)
    assert recorded.justering_due == date(2016, 9, 29)
    assert recorded.anslag_due == date(2016, 10, 3)
    assert recorded.appeal_period_ends_latest == date(2016, 10, 24)


def test_the_latest_dates_count_from_the_day_lag_1930_173_moves_the_step_before_to(pilot, participants):
    # A meeting on 2027-12-08: justering by 12-22; the anslag due on julafton 12-24 moves past juldagen and annandag
    # jul to Monday 12-27, and the appeal period counts from there: 2028-01-17, not 2028-01-14.
    decision = NamndDecision.model_validate(namnd_decision(date(2027, 12, 8), 54, "planen antas"))

    events = completion_events(
        pilot.template,
        "plan_adoption",
        participants[Role.NAMNDSEKRETERARE][0],
        decision,
        now=datetime(2027, 12, 9, 9, 0, tzinfo=UTC),
        new_id=pilot.new_id,
    )

    [recorded] = [e for e in events if isinstance(e, DecisionRecorded)]
    assert (recorded.justering_due, recorded.anslag_due) == (date(2027, 12, 22), date(2027, 12, 27))
    assert recorded.appeal_period_ends_latest == date(2028, 1, 17)


def test_runs_on_the_first_edition_of_the_rules_keep_counting_from_the_unmoved_days(pilot, participants):
    decision = NamndDecision.model_validate(namnd_decision(date(2027, 12, 8), 54, "planen antas"))

    events = completion_events(
        pilot.template,
        "plan_adoption",
        participants[Role.NAMNDSEKRETERARE][0],
        decision,
        now=datetime(2027, 12, 9, 9, 0, tzinfo=UTC),
        new_id=pilot.new_id,
        rules=FIRST_EDITION,
    )

    [recorded] = [e for e in events if isinstance(e, DecisionRecorded)]
    assert (recorded.anslag_due, recorded.appeal_period_ends_latest) == (date(2027, 12, 24), date(2028, 1, 14))


def test_a_namnd_decision_records_the_paragraph_and_diarienummer_from_the_minutes(pilot, participants):
    decision = NamndDecision.model_validate(namnd_decision(date(2016, 9, 15), 54, "analysen anmäls"))

    events = completion_events(
        pilot.template,
        "plan_adoption",
        participants[Role.NAMNDSEKRETERARE][0],
        decision,
        now=pilot.now,
        new_id=pilot.new_id,
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
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported")

    [decision] = pilot.state.decisions
    assert decision.task_key == "analysis_reported"
    assert decision.meeting_date.isoformat() == pilot.state.tasks["analysis_reported"].payload["meeting_date"]


def test_a_yearly_decision_is_recorded_under_its_instance_key(implementing):
    implementing.complete_all("ska_follow_up", "ska_analysis", "ska_planning")
    implementing.complete_all("measure_progress", "change_project", "funding_application", "annual_report")

    assert [d.task_key for d in implementing.state.decisions] == [
        "analysis_reported",
        "plan_adoption",
        "annual_report@y1",
    ]


def test_a_task_that_is_not_a_decision_records_no_decision(pilot, participants):
    payload = SelfAssessment.model_validate(answer_for("self_assessment", TODAY, level="F"))

    events = completion_events(
        pilot.template, "self_assessment@F", chef(participants), payload, now=pilot.now, new_id=pilot.new_id
    )

    assert not any(isinstance(e, DecisionRecorded) for e in events)
