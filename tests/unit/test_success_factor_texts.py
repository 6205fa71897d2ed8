"""The indicator texts shown beside the 1–4 score: one Swedish and one English text for every indicator."""

from __future__ import annotations

import re

import pytest

from domain.success_factors import INDICATOR_IDS, INDICATOR_TEXTS, indicator_text


def test_every_indicator_has_texts_and_no_other_ids() -> None:
    assert set(INDICATOR_TEXTS) == set(INDICATOR_IDS)
    assert len(INDICATOR_TEXTS) == len(INDICATOR_IDS)


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_both_texts_are_non_empty_single_short_sentences(indicator_id: str) -> None:
    swedish, english = INDICATOR_TEXTS[indicator_id]
    for text in (swedish, english):
        assert text.strip() == text
        assert text
        assert len(text) <= 160
        assert text[-1] in ".!"
        assert not re.search(r"\((?:[PFRLOS]/?)+\)", text), "level markers such as (P/F) belong to the id, not the text"


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_english_differs_from_swedish(indicator_id: str) -> None:
    swedish, english = INDICATOR_TEXTS[indicator_id]
    assert swedish != english


def test_no_duplicate_texts() -> None:
    swedish = [sv for sv, _ in INDICATOR_TEXTS.values()]
    english = [en for _, en in INDICATOR_TEXTS.values()]
    assert len(set(swedish)) == len(swedish)
    assert len(set(english)) == len(english)


def test_indicator_text_picks_the_language_and_defaults_to_swedish() -> None:
    assert indicator_text("SF6.c") == "Tydlig delegationsordning."
    assert indicator_text("SF6.c", "sv") == INDICATOR_TEXTS["SF6.c"][0]
    assert indicator_text("SF6.c", "en") == INDICATOR_TEXTS["SF6.c"][1]
    for indicator_id in INDICATOR_IDS:
        assert indicator_text(indicator_id, "en") == INDICATOR_TEXTS[indicator_id][1]


@pytest.mark.parametrize("indicator_id", ["SF9.a", "SF1.z", "SF1", "", "sf1.a"])
def test_unknown_indicator_raises_naming_the_id(indicator_id: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(indicator_id))):
        indicator_text(indicator_id)


@pytest.mark.parametrize("language", ["de", "SV", "", "english"])
def test_unknown_language_raises_naming_the_id(language: str) -> None:
    with pytest.raises(ValueError, match=re.escape("'SF1.a'")):
        indicator_text("SF1.a", language)
