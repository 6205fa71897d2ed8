"""The levels' self-assessments in a pilot: one instance per level, consolidated once every level has answered."""

from __future__ import annotations

from domain.consolidation import AssessmentLevel
from domain.events import SelfAssessmentsConsolidated, TaskOpened
from domain.rules import consolidate_self_assessments

P, F, R, S = AssessmentLevel.P, AssessmentLevel.F, AssessmentLevel.R, AssessmentLevel.S
LEVELS = (
    "self_assessment@P",
    "self_assessment@F",
    "self_assessment@R",
    "self_assessment@S",
    "self_assessment@S/p-ekonomi",  # HR and ekonomi both answer for the support functions
)


def consolidations(events) -> list[SelfAssessmentsConsolidated]:
    return [e for e in events if isinstance(e, SelfAssessmentsConsolidated)]


def test_no_consolidation_while_a_level_has_not_answered(pilot):
    events = pilot.complete_all(*LEVELS[:-1])

    assert consolidations(events) == []
    assert pilot.state.consolidation is None


def test_the_last_levels_answer_consolidates_every_level(pilot):
    pilot.complete_all(*LEVELS[:-1])

    [event] = consolidations(pilot.complete(LEVELS[-1]))

    assert event.occurred_at == pilot.now
    assert event.consolidation.levels == (P, F, R, S)
    assert pilot.state.consolidation == event.consolidation


def test_the_consolidation_comes_before_the_analysis_that_waits_for_it(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", *LEVELS[:-1])

    events = pilot.complete(LEVELS[-1])

    kinds = [type(e) for e in events if isinstance(e, SelfAssessmentsConsolidated | TaskOpened)]
    assert kinds == [SelfAssessmentsConsolidated, TaskOpened]
    assert events[-1].task_key == "strengths_weaknesses"


def test_the_self_assessments_are_consolidated_once(pilot):
    pilot.complete_all(*LEVELS, "kpi_data_pack", "document_collection", "strengths_weaknesses")

    assert len(consolidations(pilot.events)) == 1


def test_the_synthetic_answers_flag_politicians_part_in_follow_up_as_a_large_spread(pilot):
    pilot.complete_all(*LEVELS)

    sf4e = pilot.state.consolidation.indicators["SF4.e"]

    # P 4, F 2, R 1 (the support functions do not score SF4.e): sorted 1 2 4 -> median 2, spread 4 - 1 = 3
    assert sf4e.scores == {P: 4, F: 2, R: 1}
    assert (sf4e.median, sf4e.spread, sf4e.large_spread) == (2.0, 3, True)
    [finding] = [f for f in pilot.state.consolidation.findings if f.indicator == "SF4.e"]
    assert finding.spread == 3
    assert finding.text_sv == "SF4.e: P 4, F 2, R 1 – stor skillnad mellan nivåerna"


def test_the_synthetic_answers_show_each_level_seeing_its_own_leadership_brighter(pilot):
    pilot.complete_all(*LEVELS)
    consolidation = pilot.state.consolidation

    # SF1 and SF8 are P 4, F 3, R 2: a spread of 2, at the threshold; nothing else but SF4.e differs
    assert [f.indicator for f in consolidation.findings] == [
        *(f"SF1.{x}" for x in "abcde"),
        "SF4.e",
        *(f"SF8.{x}" for x in "abcde"),
    ]
    assert consolidation.factors["SF1"].mean_by_level == {P: 4.0, F: 3.0, R: 2.0}


def test_the_support_functions_count_only_on_their_own_indicators(pilot):
    pilot.complete_all(*LEVELS)
    consolidation = pilot.state.consolidation

    assert consolidation.indicators["SF2.c"].scores == {P: 3, F: 3, R: 3, S: 3}
    assert S not in consolidation.indicators["SF1.a"].scores
    assert S in consolidation.factors["SF6"].mean_by_level
    assert S not in consolidation.factors["SF4"].mean_by_level


def test_the_synthetic_answers_make_follow_up_and_catching_pupils_the_weakest_factors(pilot):
    pilot.complete_all(*LEVELS)

    assert pilot.state.consolidation.weakest_factors(2) == ["SF4", "SF7"]


def test_consolidating_takes_the_completed_answers_only(pilot):
    pilot.complete_all(*LEVELS[:2])

    assert consolidate_self_assessments(pilot.state).levels == (P, F)
