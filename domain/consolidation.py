"""Consolidating the levels' self-assessments into medians and spreads.

Each level (politics, förvaltning, principals, support functions) scores the indicators it knows on 1–4, and a
level may answer more than once: every rektor for their own school unit, HR and ekonomi each for the support
functions. A level's score on an indicator is the median of its answers, so each level weighs the same however
many answer for it. The consolidation keeps every level's score visible, because a big gap between levels is
itself a finding: it says the vertical shared view (samsyn, SF8.c) is missing on that point. A big spread within
a level (one school far from the others) is a finding too.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.success_factors import INDICATOR_IDS, SUCCESS_FACTORS, factor_of, indicators_for_level

LOWEST_SCORE = 1
HIGHEST_SCORE = 4


class AssessmentLevel(StrEnum):
    """Who answered; the order here is the order levels are listed in findings and charts."""

    P = "P"  # politik: the nämnd
    F = "F"  # förvaltning: förvaltningschef and ledningsgrupp
    R = "R"  # rektorer
    S = "S"  # stödfunktioner: HR and ekonomi


class IndicatorConsolidation(BaseModel):
    """One indicator across the levels that scored it."""

    model_config = ConfigDict(frozen=True)

    indicator: str
    factor: str
    scores: dict[AssessmentLevel, int | float] = Field(description="each level's score: the median of its answers")
    median: float
    spread: int | float = Field(description="highest minus lowest score among the levels")
    large_spread: bool
    answers: dict[AssessmentLevel, int] = Field(default_factory=dict, description="how many answered, by level")
    within_level_spread: dict[AssessmentLevel, int] = Field(
        default_factory=dict, description="highest minus lowest answer within each level that answered more than once"
    )


class FactorConsolidation(BaseModel):
    """One success factor: the median of every score given on its indicators, and each level's mean."""

    model_config = ConfigDict(frozen=True)

    factor: str
    median: float
    mean_by_level: dict[AssessmentLevel, float] = Field(description="for a radar chart; rounded to 2 decimals")
    max_spread: int | float
    max_within_level_spread: int = 0


class SpreadFinding(BaseModel):
    """An indicator on which the levels disagree by at least the threshold, or the answers within one level do."""

    model_config = ConfigDict(frozen=True)

    indicator: str
    spread: int | float
    text_sv: str
    within_level: AssessmentLevel | None = Field(default=None, description="the level, for a spread within one")


class Consolidation(BaseModel):
    """The consolidated self-assessment; indicators and factors nobody scored are left out."""

    model_config = ConfigDict(frozen=True)

    levels: tuple[AssessmentLevel, ...]
    large_spread_threshold: int
    indicators: dict[str, IndicatorConsolidation]
    factors: dict[str, FactorConsolidation]
    findings: list[SpreadFinding]

    def weakest_factors(self, n: int) -> list[str]:
        """The `n` factors with the lowest median; ties go to the lower factor id."""
        return [f.factor for f in sorted(self.factors.values(), key=lambda f: (f.median, f.factor))[: _count(n)]]


Answers = Mapping[str, int]
"""One answer: indicator id -> score."""


def consolidate(
    scores_by_level: Mapping[AssessmentLevel, Answers | Sequence[Answers]], *, large_spread: int = 2
) -> Consolidation:
    """Medians and spreads per indicator and factor, and the indicators where the levels disagree (or the answers
    within a level do). A level gives one answer, or a sequence of answers (one per person who answered for it)."""
    if large_spread < 1:
        raise ValueError(f"large_spread must be at least 1 (a spread of 0 is agreement), got {large_spread}")
    by_level = _validated(scores_by_level)
    levels = tuple(level for level in AssessmentLevel if level in by_level)

    indicators: dict[str, IndicatorConsolidation] = {}
    for indicator in INDICATOR_IDS:
        given = {level: [a[indicator] for a in by_level[level] if indicator in a] for level in levels}
        given = {level: answers for level, answers in given.items() if answers}
        if not given:
            continue
        scores = {level: _whole(statistics.median(answers)) for level, answers in given.items()}
        spread = _whole(max(scores.values()) - min(scores.values()))
        indicators[indicator] = IndicatorConsolidation(
            indicator=indicator,
            factor=factor_of(indicator),
            scores=scores,
            median=float(statistics.median(scores.values())),
            spread=spread,
            large_spread=spread >= large_spread,
            answers={level: len(answers) for level, answers in given.items()},
            within_level_spread={
                level: max(answers) - min(answers) for level, answers in given.items() if len(answers) > 1
            },
        )

    factors: dict[str, FactorConsolidation] = {}
    for factor in SUCCESS_FACTORS:
        scored = [indicators[i] for i in factor.indicators if i in indicators]
        if not scored:
            continue
        mean_by_level = {}
        for level in levels:
            own = [c.scores[level] for c in scored if level in c.scores]
            if own:
                mean_by_level[level] = round(statistics.fmean(own), 2)
        factors[factor.id] = FactorConsolidation(
            factor=factor.id,
            median=float(statistics.median(score for c in scored for score in c.scores.values())),
            mean_by_level=mean_by_level,
            max_spread=max(c.spread for c in scored),
            max_within_level_spread=max((s for c in scored for s in c.within_level_spread.values()), default=0),
        )

    findings = [
        SpreadFinding(indicator=c.indicator, spread=c.spread, text_sv=_finding_text(c))
        for c in indicators.values()
        if c.large_spread
    ] + [
        SpreadFinding(
            indicator=c.indicator, spread=spread, within_level=level, text_sv=_within_level_text(c, level, spread)
        )
        for c in indicators.values()
        for level, spread in c.within_level_spread.items()
        if spread >= large_spread
    ]
    return Consolidation(
        levels=levels,
        large_spread_threshold=large_spread,
        indicators=indicators,
        factors=factors,
        findings=findings,
    )


def _validated(
    scores_by_level: Mapping[AssessmentLevel, Answers | Sequence[Answers]],
) -> dict[AssessmentLevel, list[Answers]]:
    validated: dict[AssessmentLevel, list[Answers]] = {}
    for raw_level, given in scores_by_level.items():
        try:
            level = AssessmentLevel(raw_level)
        except ValueError:
            known = ", ".join(AssessmentLevel)
            raise ValueError(f"unknown assessment level {raw_level!r}; levels are {known}") from None
        answers = [given] if isinstance(given, Mapping) else list(given)
        if not answers or any(not scores for scores in answers):
            raise ValueError(
                f"level {level.value} scored none of its indicators; leave a level that did not answer out"
            )
        own_indicators = indicators_for_level(level)
        for scores in answers:
            for indicator, score in scores.items():
                if indicator not in own_indicators:
                    where = "is not an indicator" if indicator not in INDICATOR_IDS else "is not scored by"
                    raise ValueError(f"level {level.value}: {indicator!r} {where} level {level.value}")
                # bool is an int in Python; a True would otherwise pass as the score 1
                if isinstance(score, bool) or not isinstance(score, int) or not LOWEST_SCORE <= score <= HIGHEST_SCORE:
                    raise ValueError(
                        f"level {level.value}, indicator {indicator}: score {score!r} is outside "
                        f"{LOWEST_SCORE}–{HIGHEST_SCORE}"
                    )
        validated[level] = answers
    return validated


def _whole(value: float) -> int | float:
    """A score as a whole number where it is one (the median of one answer, or of two equal ones)."""
    return int(value) if float(value).is_integer() else float(value)


def _finding_text(consolidated: IndicatorConsolidation) -> str:
    levels = ", ".join(f"{level.value} {_swedish(score)}" for level, score in consolidated.scores.items())
    return f"{consolidated.indicator}: {levels} – stor skillnad mellan nivåerna"


def _swedish(score: int | float) -> str:
    """A score as Swedish writes it: 2 or 2,5."""
    return str(score).replace(".", ",")


def _within_level_text(consolidated: IndicatorConsolidation, level: AssessmentLevel, spread: int) -> str:
    count = consolidated.answers.get(level, 0)
    return (
        f"{consolidated.indicator}: {count} svar på nivå {level.value} skiljer {spread} steg – stor skillnad inom nivån"
    )


def _count(n: int) -> int:
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    return n
