"""Kommunkoder (SCB's municipality codes) of the pilot municipalities; Kolada uses the same ids."""

from __future__ import annotations

import re

from domain.kommuner import kommun_name

PILOT_MUNICIPALITIES: dict[str, str] = {
    "0643": "Habo",
    "0305": "Håbo",
    "2482": "Skellefteå",
    "1230": "Staffanstorp",
    "1488": "Trollhättan",
    "0138": "Tyresö",
    "0160": "Täby",
    "1442": "Vårgårda",
    "1292": "Ängelholm",
    "1083": "Sölvesborg",
    "1272": "Bromölla",
    "1861": "Hallsberg",
    "1864": "Ljusnarsberg",
}


DECIDING_ORGANS: dict[str, str] = {
    "1861": "Bildningsnämnden",  # Hallsberg: the nämnd for its schools in 2019
    "1864": "Kommunstyrelsen",  # Ljusnarsberg: school matters under KS in the 2007 and 2011 minutes
}
"""The organ that decides school matters, where the municipality's published records show it; every other
pilot names its own."""


PILOT_CODE_PATTERN = r"^[0-9]{4}(\+[0-9]{4})*$"
"""A pilot is one municipality (its kommunkod) or a kommunalförbund (its members' codes joined by '+'). Four ASCII
digits each: `\\d` would also let other scripts' digits through."""

KOMMUNALFORBUND: dict[str, str] = {
    "1083+1272": "Sölvesborg-Bromölla kommunalförbund",  # a pilot participant without a kommunkod of its own
}


def check_pilot_code(value: str) -> str:
    """Return the pilot code if it is a kommunkod or '+'-joined kommunkoder, else raise ValueError."""
    if not re.fullmatch(PILOT_CODE_PATTERN.strip("^$"), value):
        raise ValueError(
            f"a pilot is a kommunkod (four digits, like 1861) or a kommunalförbund's member codes joined by '+' "
            f"(like 1083+1272); got {value!r}"
        )
    members = value.split("+")
    if len(set(members)) != len(members):
        raise ValueError(f"a kommunalförbund lists each member once; got {value!r}")
    return value


def members_of(pilot_code: str) -> list[str]:
    """The municipalities a pilot covers: '1083+1272' -> ['1083', '1272']."""
    return pilot_code.split("+")


def pilot_name(pilot_code: str) -> str | None:
    """The name of a municipality (SCB's register, domain.kommuner) or of a known kommunalförbund, else None."""
    return kommun_name(pilot_code) or KOMMUNALFORBUND.get(pilot_code)


def unknown_members(pilot_code: str) -> list[str]:
    """The codes of a pilot that are not Swedish municipalities (not in SCB's register, domain.kommuner)."""
    return [code for code in members_of(pilot_code) if kommun_name(code) is None]
