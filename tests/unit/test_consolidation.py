"""`consolidate`: the levels' self-assessments as medians, spreads and findings."""

from __future__ import annotations

import pytest

from domain.consolidation import AssessmentLevel, consolidate
from domain.success_factors import INDICATOR_IDS, SUPPORT_FUNCTION_INDICATORS, indicators_for_level

P, F, R, S = AssessmentLevel.P, AssessmentLevel.F, AssessmentLevel.R, AssessmentLevel.S


def every_indicator(score: int, **overrides: int) -> dict[str, int]:
    """A full self-assessment with every indicator at `score`; overrides use '_' for '.' (SF4_e=1)."""
    scores = dict.fromkeys(INDICATOR_IDS, score)
    scores.update({key.replace("_", "."): value for key, value in overrides.items()})
    return scores


# indicators_for_level and SUPPORT_FUNCTION_INDICATORS


@pytest.mark.parametrize("level", ["P", "F", "R"])
def test_politics_forvaltning_and_rektorer_score_every_indicator(level):
    assert indicators_for_level(level) == INDICATOR_IDS


def test_support_functions_score_the_hr_and_finance_indicators_in_indicator_order():
    assert indicators_for_level("S") == ("SF2.c", "SF2.d", "SF2.f", "SF2.g", "SF6.b", "SF6.c")


def test_support_function_indicators_are_all_real_indicators():
    assert SUPPORT_FUNCTION_INDICATORS <= set(INDICATOR_IDS)


def test_indicators_for_an_unknown_level_is_rejected():
    with pytest.raises(ValueError, match="unknown assessment level 'X'"):
        indicators_for_level("X")


# per indicator


def test_indicator_median_and_spread_across_three_levels():
    result = consolidate({P: {"SF4.e": 1}, F: {"SF4.e": 3}, R: {"SF4.e": 4}})

    sf4e = result.indicators["SF4.e"]
    # sorted 1, 3, 4 -> median 3; spread 4 - 1 = 3
    assert sf4e.scores == {P: 1, F: 3, R: 4}
    assert sf4e.median == 3.0
    assert sf4e.spread == 3
    assert sf4e.factor == "SF4"


def test_indicator_median_of_four_levels_is_the_mean_of_the_middle_two():
    result = consolidate({P: {"SF2.c": 1}, F: {"SF2.c": 2}, R: {"SF2.c": 4}, S: {"SF2.c": 4}})

    # sorted 1, 2, 4, 4 -> (2 + 4) / 2 = 3.0
    assert result.indicators["SF2.c"].median == 3.0


def test_a_spread_at_the_threshold_is_large():
    result = consolidate({P: {"SF1.a": 2}, F: {"SF1.a": 4}})

    # 4 - 2 = 2 >= 2 (default threshold)
    assert result.indicators["SF1.a"].large_spread is True


def test_a_spread_below_the_threshold_is_not_large():
    result = consolidate({P: {"SF1.a": 3}, F: {"SF1.a": 4}})

    # 4 - 3 = 1 < 2
    assert result.indicators["SF1.a"].large_spread is False


def test_the_large_spread_threshold_can_be_raised():
    result = consolidate({P: {"SF1.a": 2}, F: {"SF1.a": 4}}, large_spread=3)

    # 4 - 2 = 2 < 3
    assert result.indicators["SF1.a"].large_spread is False
    assert result.large_spread_threshold == 3


def test_a_threshold_below_one_is_rejected():
    with pytest.raises(ValueError, match="large_spread must be at least 1"):
        consolidate({P: {"SF1.a": 2}}, large_spread=0)


def test_an_indicator_scored_by_one_level_has_no_spread():
    result = consolidate({P: {"SF1.a": 1}, F: {"SF1.b": 4}})

    assert result.indicators["SF1.a"].spread == 0
    assert result.indicators["SF1.a"].large_spread is False


def test_an_indicator_nobody_scored_is_left_out():
    result = consolidate({P: {"SF1.a": 1}})

    assert list(result.indicators) == ["SF1.a"]


# per factor


def test_factor_median_pools_every_score_on_its_indicators_across_levels():
    result = consolidate(
        {
            P: {"SF6.a": 1, "SF6.b": 1, "SF6.c": 2, "SF6.d": 2},
            F: {"SF6.a": 3, "SF6.b": 3, "SF6.c": 4, "SF6.d": 4},
            S: {"SF6.b": 4, "SF6.c": 4},
        }
    )

    # pooled and sorted: 1 1 2 2 3 3 4 4 4 4 (10 scores) -> (3 + 3) / 2 = 3.0
    assert result.factors["SF6"].median == 3.0


def test_factor_mean_per_level_is_rounded_to_two_decimals():
    result = consolidate({P: {"SF1.a": 1, "SF1.b": 1, "SF1.c": 2}, R: {"SF1.d": 4}})

    # P: (1 + 1 + 2) / 3 = 1.333… -> 1.33; R: 4 / 1 = 4.0
    assert result.factors["SF1"].mean_by_level == {P: 1.33, R: 4.0}


def test_factor_max_spread_is_the_largest_spread_among_its_indicators():
    result = consolidate({P: {"SF7.a": 1, "SF7.b": 3}, F: {"SF7.a": 2, "SF7.b": 3}, R: {"SF7.a": 4, "SF7.b": 2}})

    # SF7.a: 4 - 1 = 3; SF7.b: 3 - 2 = 1 -> 3
    assert result.factors["SF7"].max_spread == 3


def test_a_factor_nobody_scored_is_left_out():
    result = consolidate({P: {"SF1.a": 1}})

    assert list(result.factors) == ["SF1"]


# findings


def test_a_finding_names_each_level_and_its_score():
    result = consolidate({P: {"SF4.e": 1}, F: {"SF4.e": 3}, R: {"SF4.e": 4}})

    [finding] = result.findings
    assert finding.indicator == "SF4.e"
    assert finding.spread == 3
    assert finding.text_sv == "SF4.e: P 1, F 3, R 4 – stor skillnad mellan nivåerna"


def test_findings_list_levels_in_p_f_r_s_order_whatever_the_input_order():
    result = consolidate({S: {"SF2.g": 4}, R: {"SF2.g": 1}, P: {"SF2.g": 2}})

    assert result.findings[0].text_sv == "SF2.g: P 2, R 1, S 4 – stor skillnad mellan nivåerna"


def test_findings_are_sorted_by_indicator_and_leave_out_small_spreads():
    result = consolidate({P: every_indicator(2, SF8_c=4, SF1_b=4, SF3_a=3), F: every_indicator(2)})

    # SF1.b and SF8.c differ by 2; SF3.a only by 1
    assert [f.indicator for f in result.findings] == ["SF1.b", "SF8.c"]


# weakest


def test_weakest_factors_are_those_with_the_lowest_median_ties_by_id():
    result = consolidate({P: every_indicator(3, SF5_a=1, SF5_b=1, SF5_c=1, SF7_a=1, SF7_b=1, SF7_c=1, SF2_a=1)})

    # SF5: 1 1 1 3 3 -> 1; SF7: 1 1 1 3 -> (1 + 1) / 2 = 1.0; SF2: 1 3 3 3 3 3 3 -> 3; the rest 3
    assert result.weakest_factors(3) == ["SF5", "SF7", "SF1"]


def test_asking_for_more_factors_than_were_scored_gives_them_all():
    result = consolidate({P: {"SF1.a": 1, "SF2.a": 2}})

    assert result.weakest_factors(5) == ["SF1", "SF2"]


def test_a_negative_number_of_factors_is_rejected():
    result = consolidate({P: {"SF1.a": 1}})

    with pytest.raises(ValueError, match="n must be 0 or more"):
        result.weakest_factors(-1)


# validation


@pytest.mark.parametrize("score", [0, 5])
def test_a_score_outside_one_to_four_names_the_level_and_indicator(score):
    with pytest.raises(ValueError, match=rf"level F, indicator SF3\.b: score {score} is outside 1–4"):
        consolidate({P: {"SF3.b": 2}, F: {"SF3.b": score}})


def test_a_boolean_score_is_rejected():
    with pytest.raises(ValueError, match=r"level P, indicator SF3\.b: score True"):
        consolidate({P: {"SF3.b": True}})


def test_an_unknown_indicator_names_the_level_and_indicator():
    with pytest.raises(ValueError, match=r"level R: 'SF9\.a' is not an indicator"):
        consolidate({R: {"SF9.a": 2}})


def test_support_functions_may_not_score_an_indicator_outside_their_field():
    with pytest.raises(ValueError, match=r"level S: 'SF1\.a' is not scored by level S"):
        consolidate({S: {"SF1.a": 2}})


def test_a_level_present_with_no_scores_is_rejected():
    with pytest.raises(ValueError, match="level R scored none of its indicators"):
        consolidate({P: {"SF1.a": 2}, R: {}})


def test_an_unknown_level_is_rejected():
    with pytest.raises(ValueError, match="unknown assessment level 'L'"):
        consolidate({"L": {"SF1.a": 2}})  # type: ignore[dict-item]


def test_a_level_that_did_not_answer_is_simply_absent():
    result = consolidate({P: {"SF1.a": 2}, R: {"SF1.a": 3}})

    assert result.levels == (P, R)


# several answers per level (every rektor; HR and ekonomi for the support functions)


def test_a_level_that_answers_several_times_scores_the_median_of_its_answers():
    result = consolidate({R: [every_indicator(1), every_indicator(2), every_indicator(4)], P: every_indicator(3)})

    sf1a = result.indicators["SF1.a"]
    assert sf1a.scores == {P: 3, R: 2}
    assert sf1a.answers == {P: 1, R: 3}


def test_an_even_number_of_answers_gives_a_half_score_and_each_level_weighs_the_same():
    result = consolidate({R: [every_indicator(1), every_indicator(2)], P: every_indicator(4)})

    sf1a = result.indicators["SF1.a"]
    assert sf1a.scores == {P: 4, R: 1.5}
    assert (sf1a.median, sf1a.spread) == (2.75, 2.5)


def test_the_spread_within_a_level_is_kept_and_a_large_one_is_a_finding_of_its_own():
    result = consolidate({R: [every_indicator(1), every_indicator(4)], P: every_indicator(2, SF4_e=3)})

    sf1a = result.indicators["SF1.a"]
    assert sf1a.within_level_spread == {R: 3}
    assert result.factors["SF1"].max_within_level_spread == 3
    within = [f for f in result.findings if f.within_level is R and f.indicator == "SF1.a"]
    assert len(within) == 1 and "2 svar på nivå R" in within[0].text_sv and "inom nivån" in within[0].text_sv


def test_one_answer_per_level_keeps_whole_scores_and_no_spread_within_levels():
    result = consolidate({P: every_indicator(4), R: every_indicator(1)})

    sf1a = result.indicators["SF1.a"]
    assert sf1a.scores == {P: 4, R: 1} and all(isinstance(v, int) for v in sf1a.scores.values())
    assert sf1a.within_level_spread == {}
    assert [f.within_level for f in result.findings] == [None] * len(result.findings)
    assert "P 4, R 1" in result.findings[0].text_sv


def test_an_empty_answer_among_several_is_refused():
    with pytest.raises(ValueError, match="level R scored none of its indicators"):
        consolidate({R: [every_indicator(2), {}]})
