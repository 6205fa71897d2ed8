"""What participants submit: each payload model's rules, and that a rejection names the offending field."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from devstack.sample_payloads import answer_for
from domain.payloads import (
    PAYLOAD_MODELS,
    InspectionDecision,
    InspectionFinding,
    NamndDecision,
    SelfAssessment,
    StrengthsWeaknesses,
    YearlyFollowUp,
)
from domain.programmes import LFR_SKOLA
from domain.roles import Role
from domain.rules import TaskRejected, check_completion
from domain.success_factors import INDICATOR_IDS

TODAY = date(2024, 9, 2)


def invalid_payload_message(pilot, task_key: str, participant_id: str, payload: dict) -> str:
    with pytest.raises(TaskRejected) as caught:
        check_completion(pilot.template, pilot.state, task_key, participant_id, payload)
    assert caught.value.code == "invalid_payload"
    return caught.value.message


@pytest.mark.parametrize("task", [t for t in LFR_SKOLA.tasks if t.automation is None], ids=lambda t: t.key)
def test_the_synthetic_answer_for_every_participant_task_is_valid(task):
    task.payload_model.model_validate(answer_for(task.key, TODAY))


def test_every_payload_kind_has_a_model():
    assert {t.payload_kind for t in LFR_SKOLA.tasks} <= set(PAYLOAD_MODELS)


# rejections through check_completion, each naming the field


def test_a_self_assessment_missing_an_indicator_is_rejected_naming_it(pilot, assignees):
    answer = answer_for("self_assessment", TODAY)
    del answer["scores"]["SF3.b"]

    message = invalid_payload_message(pilot, "self_assessment", assignees[Role.FORVALTNINGSCHEF], answer)

    assert "scores" in message
    assert "SF3.b" in message


def test_a_forelaggande_without_deadline_is_rejected_naming_the_finding(pilot, assignees):
    answer = answer_for("inspection_decision", TODAY)
    del answer["findings"][0]["deadline"]

    message = invalid_payload_message(pilot, "inspection_decision", assignees[Role.ANALYTIKER], answer)

    assert "findings.0" in message
    assert "deadline" in message


def test_a_skolenhet_decision_without_school_unit_code_is_rejected_naming_it(pilot, assignees):
    answer = answer_for("inspection_decision", TODAY) | {"level": "skolenhet"}

    message = invalid_payload_message(pilot, "inspection_decision", assignees[Role.ANALYTIKER], answer)

    assert "school_unit_code" in message


def test_a_prioritised_factor_that_is_not_a_weakness_is_rejected_naming_it(pilot, assignees):
    pilot.complete_all("kpi_data_pack", "self_assessment")
    answer = answer_for("strengths_weaknesses", TODAY) | {"prioritised_factors": ["SF4", "SF1"]}

    message = invalid_payload_message(pilot, "strengths_weaknesses", assignees[Role.FORVALTNINGSCHEF], answer)

    assert "prioritised_factors ['SF1']" in message
    assert "['SF4', 'SF7']" in message


def test_every_invalid_field_is_named_in_one_message(pilot, assignees):
    answer = answer_for("self_assessment", TODAY) | {"level": "X"}
    answer["scores"]["SF2.g"] = 0

    message = invalid_payload_message(pilot, "self_assessment", assignees[Role.FORVALTNINGSCHEF], answer)

    assert "level" in message
    assert "scores.SF2.g" in message


# SelfAssessment


def test_a_self_assessment_scores_every_indicator_from_1_to_4():
    scores = dict.fromkeys(INDICATOR_IDS, 1) | {"SF8.e": 4}

    assert SelfAssessment(level="P", scores=scores).scores["SF8.e"] == 4


@pytest.mark.parametrize("score", [0, 5])
def test_a_score_outside_1_to_4_is_refused(score):
    with pytest.raises(ValidationError, match=r"scores\.`SF1\.a`"):
        SelfAssessment(level="F", scores=dict.fromkeys(INDICATOR_IDS, 3) | {"SF1.a": score})


def test_a_score_for_an_unknown_indicator_is_refused():
    with pytest.raises(ValidationError, match=r"unknown indicators \['SF9.a'\]"):
        SelfAssessment(level="F", scores=dict.fromkeys(INDICATOR_IDS, 3) | {"SF9.a": 3})


def test_evidence_for_an_unknown_indicator_is_refused():
    with pytest.raises(ValidationError, match=r"evidence given for unknown indicators \['SF1.z'\]"):
        SelfAssessment(level="F", scores=dict.fromkeys(INDICATOR_IDS, 3), evidence={"SF1.z": "protokoll"})


def test_a_self_assessment_for_an_unknown_level_is_refused():
    with pytest.raises(ValidationError, match="level"):
        SelfAssessment(level="K", scores=dict.fromkeys(INDICATOR_IDS, 3))


def test_a_payload_with_an_unexpected_field_is_refused():
    with pytest.raises(ValidationError, match="comment"):
        SelfAssessment.model_validate(answer_for("self_assessment", TODAY) | {"comment": "hej"})


# StrengthsWeaknesses


def test_strengths_and_weaknesses_need_at_least_one_prioritised_factor():
    with pytest.raises(ValidationError, match="prioritised_factors"):
        StrengthsWeaknesses.model_validate(answer_for("strengths_weaknesses", TODAY) | {"prioritised_factors": []})


def test_a_finding_about_a_factor_that_does_not_exist_is_refused():
    answer = answer_for("strengths_weaknesses", TODAY)
    answer["strengths"][0]["factor"] = "SF9"

    with pytest.raises(ValidationError, match=r"strengths\.0\.factor"):
        StrengthsWeaknesses.model_validate(answer)


# inspection


@pytest.mark.parametrize("intervention", ["forelaggande", "forelaggande_med_vite"])
def test_an_order_without_deadline_is_refused(intervention):
    with pytest.raises(ValidationError, match="must state the deadline"):
        InspectionFinding(area="utveckling_av_utbildningen", intervention=intervention, description="brist")


@pytest.mark.parametrize("intervention", ["anmarkning", "avstaende", "utvecklingsomrade"])
def test_a_finding_that_is_not_an_order_needs_no_deadline(intervention):
    finding = InspectionFinding(area="utveckling_av_utbildningen", intervention=intervention, description="brist")

    assert finding.deadline is None


def test_a_skolenhet_decision_with_its_school_unit_code_is_accepted():
    answer = answer_for("inspection_decision", TODAY) | {"level": "skolenhet", "school_unit_code": "12345678"}

    assert InspectionDecision.model_validate(answer).school_unit_code == "12345678"


def test_a_school_unit_code_must_have_eight_digits():
    answer = answer_for("inspection_decision", TODAY) | {"level": "skolenhet", "school_unit_code": "1234567"}

    with pytest.raises(ValidationError, match="school_unit_code"):
        InspectionDecision.model_validate(answer)


# nämnd decisions and follow-up


def test_a_decision_paragraph_starts_at_1():
    with pytest.raises(ValidationError, match="paragraph"):
        NamndDecision(
            organ="Bildningsnämnden", meeting_date=TODAY, paragraph=0, diarienummer="BN/2024:1", decision_text="x"
        )


def test_a_diarienummer_with_characters_outside_the_registry_format_is_refused():
    with pytest.raises(ValidationError, match="diarienummer"):
        NamndDecision(
            organ="Bildningsnämnden", meeting_date=TODAY, paragraph=1, diarienummer="BN;2024<1>", decision_text="x"
        )


def test_a_yearly_follow_up_refuses_values_for_what_is_not_a_kolada_kpi():
    with pytest.raises(ValidationError, match=r"\['meritvarde'\] are not Kolada KPI ids"):
        YearlyFollowUp(year=2025, kpi_values={"N15419": 74.0, "meritvarde": 230.0}, progress="x")
