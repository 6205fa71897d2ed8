"""Key figures (Kolada KPIs) that the deep analysis gathers, per municipality and per school unit."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

RIKET = "0000"
"""Kolada's id for the whole country (Riket)."""

DATA_PACK_KPIS: tuple[str, ...] = ("N15419", "N15428", "N15507", "N15814", "N15006")
"""Year-9 results, eligibility, merit value, certified teachers, cost per pupil: Kolada's KPIs for compulsory
school (grundskola)."""

UNIT_KPIS: tuple[str, ...] = ("N15419", "N15436", "N15505", "N15814")
"""Per school unit: year-9 all subjects passed, vocational eligibility, merit value, certified teachers.

The "kommunala skolor" variants of the compulsory-school KPIs: the *hemkommun* variants count pupils by
where they live, which says nothing about a school. Which KPIs Kolada actually publishes per organisational
unit was not verified: check each id against the live API (``GET /v3/kpi/{id}`` and its ``has_ou_data`` flag,
or an ``/v3/oudata`` query) before relying on it.
"""

SCHOOL_UNIT_PREFIX = "V15E"
"""Kolada's organisational-unit ids for compulsory schools (grundskola) start with this, e.g. V15E144001301.

Seen in the Kolada README's examples and in third-party code that filters school units this way; Kolada's
unit listing of a municipality also holds preschools and other units with other prefixes. Not verified
against Kolada's own documentation.
"""


class KpiObservation(BaseModel):
    """One value of one KPI for one municipality, period and gender, as Kolada publishes it."""

    model_config = ConfigDict(frozen=True)

    kpi: str
    municipality: str
    period: int
    gender: str  # T (total), K (women), M or F (men; both spellings occur)
    value: float | None
    status: str | None = None


class OrganisationalUnit(BaseModel):
    """One of Kolada's organisational units (a school, a preschool, ...) in a municipality."""

    model_config = ConfigDict(frozen=True)

    id: str  # e.g. V15E186100001: type prefix, kommunkod, running number
    title: str
    municipality: str


class UnitObservation(BaseModel):
    """One value of one KPI for one organisational unit, period and gender, as Kolada publishes it.

    Kolada's unit data objects carry only the unit id; ``unit_title`` is filled in from the unit listing
    when the gatherer knows it.
    """

    model_config = ConfigDict(frozen=True)

    kpi: str
    unit_id: str
    unit_title: str | None = None
    period: int
    gender: str  # T (total), K (women), M or F (men; both spellings occur)
    value: float | None
    status: str | None = None


class KpiMetadata(BaseModel):
    """What Kolada says of a KPI (``/v3/kpi/{id}``): what it measures, and whether it is published per unit."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    municipality_type: str | None = None  # K municipalities, L regions, A both
    is_divided_by_gender: bool = False
    has_ou_data: bool = False
    operating_area: str | None = None


def kpi_problems(
    known: dict[str, KpiMetadata],
    municipality_kpis: tuple[str, ...] = DATA_PACK_KPIS,
    unit_kpis: tuple[str, ...] = UNIT_KPIS,
) -> list[str]:
    """What is wrong with the KPIs Leda gathers, by what Kolada's metadata (``known``) says: ids it does not know,
    and unit KPIs it does not publish per organisational unit. Empty when all is well."""
    problems = [
        f"{kpi}: Kolada does not know this KPI"
        for kpi in dict.fromkeys((*municipality_kpis, *unit_kpis))
        if kpi not in known
    ]
    problems += [
        f"{kpi}: gathered per school unit, but Kolada publishes it for municipalities only (has_ou_data is false)"
        for kpi in unit_kpis
        if kpi in known and not known[kpi].has_ou_data
    ]
    return problems


def is_school_unit(unit_id: str) -> bool:
    """Whether a Kolada organisational-unit id is a compulsory school's (see ``SCHOOL_UNIT_PREFIX``)."""
    return unit_id.startswith(SCHOOL_UNIT_PREFIX)
