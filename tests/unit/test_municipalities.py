"""Kommunkoder: four digits, as SCB and Kolada write them."""

from __future__ import annotations

import pytest

from domain.municipalities import PILOT_MUNICIPALITIES, check_pilot_code


def test_a_four_digit_kommunkod_is_accepted():
    assert check_pilot_code("1861") == "1861"


def test_a_kommunkod_with_a_leading_zero_is_accepted_as_written():
    assert check_pilot_code("0138") == "0138"


@pytest.mark.parametrize("value", ["186", "18611", "abcd", "", "18 61"])
def test_a_kommunkod_that_is_not_four_digits_is_refused(value):
    with pytest.raises(ValueError, match="a kommunkod \\(four digits"):
        check_pilot_code(value)


def test_a_kommunkod_with_a_trailing_newline_is_refused():
    with pytest.raises(ValueError):
        check_pilot_code("1861\n")


def test_a_kommunkod_in_non_ascii_digits_is_refused():
    with pytest.raises(ValueError):
        check_pilot_code("１８６１")  # fullwidth digits


def test_every_pilot_municipality_has_a_valid_kommunkod():
    assert all(check_pilot_code(code) == code for code in PILOT_MUNICIPALITIES)


def test_hallsberg_is_1861():
    assert PILOT_MUNICIPALITIES["1861"] == "Hallsberg"
