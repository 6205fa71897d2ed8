"""What participants submit: each payload model's rules, and that a rejection names the offending field."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from devstack.sample_payloads import answer_for
from domain.payloads import (
    PAYLOAD_MODELS,
    ChangeProjectReport,
    Consultation,
    DocumentCollection,
    FundingApplications,
    InspectionDecision,
    InspectionFinding,
    InterviewSummary,
    MeasureProgress,
    NamndDecision,
    SelfAssessment,
    SkaAnalysis,
    SkaPlanning,
    StrengthsWeaknesses,
    YearlyFollowUp,
)
from domain.refusals import TaskRejected
from domain.rules import check_completion
from domain.success_factors import INDICATOR_IDS, indicators_for_level
from domain.template import Repeat
from programmes import TEMPLATES

TODAY = date(2024, 9, 2)


def invalid_payload_message(pilot, task_key: str, participant_id: str, payload: dict) -> str:
    with pytest.raises(TaskRejected) as caught:
        check_completion(pilot.template, pilot.state, task_key, participant_id, payload)
    assert caught.value.code == "invalid_payload"
    return caught.value.message


def participant_tasks():
    """Every task a participant answers in any shipped template, once per template key."""
    seen = {}
    for template in TEMPLATES.values():
        for task in template.tasks:
            if task.automation is None:
                seen.setdefault(task.key, task)
    return list(seen.values())


@pytest.mark.parametrize("task", participant_tasks(), ids=lambda t: t.key)
def test_the_synthetic_answer_for_every_participant_task_of_every_shipped_template_is_valid(task):
    levels = "PFRS" if task.repeat is Repeat.PER_LEVEL else [None]
    for level in levels:
        task.payload_model.model_validate(answer_for(task.key, TODAY, level=level, year=1))


def test_every_payload_kind_has_a_model():
    assert {t.payload_kind for template in TEMPLATES.values() for t in template.tasks} <= set(PAYLOAD_MODELS)


# rejections through check_completion, each naming the field


def test_a_self_assessment_missing_an_indicator_is_rejected_naming_it(pilot):
    answer = answer_for("self_assessment", TODAY, level="F")
    del answer["scores"]["SF3.b"]

    message = invalid_payload_message(pilot, "self_assessment@F", "p-forvaltningschef", answer)

    assert "scores" in message
    assert "SF3.b" in message


def test_a_forelaggande_without_deadline_is_rejected_naming_the_finding(pilot):
    answer = answer_for("inspection_decision", TODAY)
    del answer["findings"][0]["deadline"]

    message = invalid_payload_message(pilot, "inspection_decision", "p-analytiker", answer)

    assert "findings.0" in message
    assert "deadline" in message


def test_a_skolenhet_decision_without_school_unit_code_is_rejected_naming_it(pilot):
    answer = answer_for("inspection_decision", TODAY) | {"level": "skolenhet"}

    message = invalid_payload_message(pilot, "inspection_decision", "p-analytiker", answer)

    assert "school_unit_code" in message


def test_a_prioritised_factor_that_is_not_a_weakness_is_rejected_naming_it(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment")
    answer = answer_for("strengths_weaknesses", TODAY) | {"prioritised_factors": ["SF4", "SF1"]}

    message = invalid_payload_message(pilot, "strengths_weaknesses", "p-forvaltningschef", answer)

    assert "prioritised_factors ['SF1']" in message
    assert "['SF4', 'SF7']" in message


def test_every_invalid_field_is_named_in_one_message(pilot):
    answer = answer_for("self_assessment", TODAY, level="F") | {"level": "X"}
    answer["scores"]["SF2.g"] = 0

    message = invalid_payload_message(pilot, "self_assessment@F", "p-forvaltningschef", answer)

    assert "level" in message
    assert "scores.SF2.g" in message


# SelfAssessment


@pytest.mark.parametrize("level", ["P", "F", "R"])
def test_politics_administration_and_principals_score_every_indicator_from_1_to_4(level):
    scores = dict.fromkeys(INDICATOR_IDS, 1) | {"SF8.e": 4}

    assert SelfAssessment(level=level, scores=scores).scores["SF8.e"] == 4


@pytest.mark.parametrize("level", ["P", "F", "R"])
def test_a_full_level_that_leaves_an_indicator_out_is_refused_naming_it(level):
    scores = dict.fromkeys(INDICATOR_IDS, 3)
    del scores["SF6.d"]

    with pytest.raises(ValidationError, match=rf"level {level} scores every one of its indicators; missing \['SF6.d'"):
        SelfAssessment(level=level, scores=scores)


def test_the_support_functions_score_exactly_their_own_indicators():
    answer = SelfAssessment(level="S", scores=dict.fromkeys(indicators_for_level("S"), 2))

    assert sorted(answer.scores) == ["SF2.c", "SF2.d", "SF2.f", "SF2.g", "SF6.b", "SF6.c"]


def test_the_support_functions_may_not_score_an_indicator_outside_their_field():
    scores = dict.fromkeys(indicators_for_level("S"), 2) | {"SF1.a": 3}

    with pytest.raises(ValidationError, match=r"level S does not score \['SF1.a'\]"):
        SelfAssessment(level="S", scores=scores)


def test_the_support_functions_scoring_every_indicator_is_refused():
    with pytest.raises(ValidationError, match="level S does not score"):
        SelfAssessment(level="S", scores=dict.fromkeys(INDICATOR_IDS, 2))


def test_the_support_functions_must_score_each_of_their_indicators():
    scores = dict.fromkeys(indicators_for_level("S"), 2)
    del scores["SF2.g"]

    with pytest.raises(ValidationError, match=r"level S scores every one of its indicators; missing \['SF2.g'\]"):
        SelfAssessment(level="S", scores=scores)


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


# the deep analysis's documents and interviews


def test_a_document_collection_needs_at_least_one_document():
    with pytest.raises(ValidationError, match="documents"):
        DocumentCollection(documents=[])


def test_a_document_of_an_unknown_kind_is_refused_naming_it():
    answer = answer_for("document_collection", TODAY)
    answer["documents"][1]["kind"] = "budgetbrev"

    with pytest.raises(ValidationError, match=r"documents\.1\.kind"):
        DocumentCollection.model_validate(answer)


def test_interviews_must_include_a_group_of_pupils():
    answer = answer_for("interviews", TODAY)
    answer["groups"] = [g for g in answer["groups"] if g["level"] != "elever"]

    with pytest.raises(ValidationError, match="include at least one group of elever"):
        InterviewSummary.model_validate(answer)


def test_interviews_with_pupils_are_accepted():
    summary = InterviewSummary(groups=[{"level": "elever", "interviewed": 12}], themes=["tidigt stöd"])

    assert summary.groups[0].interviewed == 12


def test_an_interview_group_has_at_least_one_person():
    with pytest.raises(ValidationError, match=r"groups\.0\.interviewed"):
        InterviewSummary(groups=[{"level": "elever", "interviewed": 0}], themes=["tidigt stöd"])


# the plan's consultations


def test_a_consultation_says_whether_it_supports_the_plan_and_why():
    consultation = Consultation.model_validate(answer_for("consult_hr", TODAY))

    assert consultation.supports_plan is True
    assert consultation.conditions == []


def test_a_consultation_without_an_opinion_is_refused():
    with pytest.raises(ValidationError, match="opinion"):
        Consultation.model_validate(answer_for("consult_finance", TODAY) | {"opinion": ""})


# the yearly SKA cycle


def test_an_ska_analysis_names_at_least_one_cause():
    with pytest.raises(ValidationError, match="causes"):
        SkaAnalysis.model_validate(answer_for("ska_analysis", TODAY) | {"causes": []})


def test_an_ska_planning_needs_priorities_and_needs_no_plan_revision_by_default():
    assert SkaPlanning(priorities=["tidiga insatser"]).plan_revision_needed is False
    with pytest.raises(ValidationError, match="priorities"):
        SkaPlanning(priorities=[])


def test_a_measure_reported_as_carried_out_needs_evidence():
    with pytest.raises(ValidationError, match="genomförd needs evidence"):
        MeasureProgress(status="genomford", progress="klart")


@pytest.mark.parametrize("status", ["ej_startad", "pagar", "installd"])
def test_a_measure_not_carried_out_needs_no_evidence(status):
    assert MeasureProgress(status=status, progress="så här går det").evidence == []


def test_a_measure_of_an_unknown_status_is_refused():
    with pytest.raises(ValidationError, match="status"):
        MeasureProgress.model_validate(answer_for("measure_progress", TODAY) | {"status": "klar"})


def test_a_change_project_report_says_how_pupils_took_part():
    answer = answer_for("change_project", TODAY)
    del answer["pupil_involvement"]

    with pytest.raises(ValidationError, match="pupil_involvement"):
        ChangeProjectReport.model_validate(answer)


def test_funding_applications_list_the_applications():
    [application] = FundingApplications.model_validate(answer_for("funding_application", TODAY)).applications

    assert (application.source, application.outcome) == ("statsbidrag", "beviljad")


def test_a_year_without_funding_applications_says_why():
    reported = FundingApplications(none_this_year_reason="inga utlysningar passade planen")

    assert reported.applications == []


def test_funding_applications_with_neither_applications_nor_a_reason_are_refused():
    with pytest.raises(ValidationError, match="none_this_year_reason"):
        FundingApplications()


def test_a_funding_application_amount_cannot_be_negative():
    answer = answer_for("funding_application", TODAY)
    answer["applications"][0]["amount_sek"] = -1

    with pytest.raises(ValidationError, match=r"applications\.0\.amount_sek"):
        FundingApplications.model_validate(answer)


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
