"""The register of Sweden's 290 municipalities: SCB's kommunkoder, the names, and the län a code's first digits name."""

from __future__ import annotations

import re

import pytest

from domain.kommuner import KOMMUNER, LAN, kommun_name, lan_of
from domain.municipalities import PILOT_MUNICIPALITIES


def test_the_register_has_all_290_municipalities():
    assert len(KOMMUNER) == 290


def test_there_are_21_counties_with_two_digit_codes():
    assert len(LAN) == 21
    assert all(re.fullmatch(r"[0-9]{2}", code) for code in LAN)
    assert all(name.endswith(" län") for name in LAN.values())


def test_every_code_is_four_ascii_digits():
    bad = [code for code in KOMMUNER if not re.fullmatch(r"[0-9]{4}", code)]
    assert bad == []


def test_every_code_starts_with_a_known_county():
    assert [code for code in KOMMUNER if code[:2] not in LAN] == []


def test_the_codes_are_unique_and_in_code_order():
    codes = list(KOMMUNER)
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)


def test_the_names_are_non_empty_stripped_and_unique():
    names = list(KOMMUNER.values())
    assert all(name and name == name.strip() for name in names)
    assert len(set(names)) == len(names)


def test_the_names_are_short_forms_without_kommun():
    assert [name for name in KOMMUNER.values() if "kommun" in name.lower()] == []


def test_every_county_has_at_least_one_municipality():
    counties_in_use = {code[:2] for code in KOMMUNER}
    assert counties_in_use == set(LAN)


@pytest.mark.parametrize(
    ("code", "name", "county"),
    [
        ("0114", "Upplands Väsby", "Stockholms län"),
        ("0180", "Stockholm", "Stockholms län"),
        ("0305", "Håbo", "Uppsala län"),
        ("0330", "Knivsta", "Uppsala län"),
        ("0331", "Heby", "Uppsala län"),
        ("0643", "Habo", "Jönköpings län"),
        ("0980", "Gotland", "Gotlands län"),
        ("1083", "Sölvesborg", "Blekinge län"),
        ("1272", "Bromölla", "Skåne län"),
        ("1280", "Malmö", "Skåne län"),
        ("1480", "Göteborg", "Västra Götalands län"),
        ("1861", "Hallsberg", "Örebro län"),
        ("1862", "Degerfors", "Örebro län"),
        ("1864", "Ljusnarsberg", "Örebro län"),
        ("2080", "Falun", "Dalarnas län"),
        ("2380", "Östersund", "Jämtlands län"),
        ("2482", "Skellefteå", "Västerbottens län"),
        ("2584", "Kiruna", "Norrbottens län"),
    ],
)
def test_spot_checks_of_real_codes(code, name, county):
    assert KOMMUNER[code] == name
    assert kommun_name(code) == name
    assert lan_of(code) == county


def test_heby_has_only_its_uppsala_code_since_2007():
    assert "1917" not in KOMMUNER
    assert KOMMUNER["0331"] == "Heby"


def test_every_pilot_municipality_is_in_the_register_with_the_same_name():
    mismatched = {
        code: (name, KOMMUNER.get(code)) for code, name in PILOT_MUNICIPALITIES.items() if KOMMUNER.get(code) != name
    }
    assert PILOT_MUNICIPALITIES
    assert mismatched == {}


@pytest.mark.parametrize("code", ["0199", "1917", "9999", "186", "18611", "", "１８６１", "1861\n"])
def test_a_code_no_municipality_has_gives_none(code):
    assert kommun_name(code) is None
    assert lan_of(code) is None
