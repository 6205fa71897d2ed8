"""Key figures (Kolada KPIs) that the deep analysis gathers, per municipality and per school unit."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

RIKET = "0000"
"""Kolada's id for the whole country (Riket)."""

TOTAL = "T"
"""Kolada's gender code for the whole population (K and M are women and men)."""

Population = Literal["hemkommun", "kommunala_skolor"]
"""Whom a compulsory-school KPI counts. *hemkommun*: the pupils who live in the municipality, wherever they go to
school (its own schools, a friskola, another municipality's); *kommunala skolor*: the pupils of the municipality's
own schools, wherever they live. The two differ most where many pupils go to friskolor; a figure of one is never
compared with a figure of the other."""

POPULATION_TITLES: dict[Population, tuple[str, str]] = {
    "hemkommun": ("elever folkbokförda i kommunen", "pupils living in the municipality"),
    "kommunala_skolor": ("kommunens egna skolor", "the municipality's own schools"),
}


@dataclass(frozen=True)
class KpiDefinition:
    """What a KPI measures, in Kolada's own title, its unit, and whom it counts."""

    title_sv: str
    unit: str
    population: Population


KPI_CATALOGUE: dict[str, KpiDefinition] = {
    "N15419": KpiDefinition(
        "Elever i åk 9 som uppnått kunskapskraven i alla ämnen, kommunala skolor", "andel (%)", "kommunala_skolor"
    ),
    "N15428": KpiDefinition("Elever i åk 9 som är behöriga till yrkesprogram, hemkommun", "andel (%)", "hemkommun"),
    "N15436": KpiDefinition(
        "Elever i åk 9 som är behöriga till yrkesprogram, kommunala skolor", "andel (%)", "kommunala_skolor"
    ),
    "N15505": KpiDefinition(
        "Elever i åk 9, meritvärde kommunala skolor, genomsnitt (17 ämnen)", "meritvärde", "kommunala_skolor"
    ),
    "N15507": KpiDefinition("Elever i åk 9, meritvärde, hemkommun, genomsnitt (17 ämnen)", "meritvärde", "hemkommun"),
    "N15814": KpiDefinition(
        "Lärare med lärarlegitimation och behörighet i minst ett ämne, åk 1–9, kommunala skolor",
        "andel (%)",
        "kommunala_skolor",
    ),
    "N15006": KpiDefinition("Kostnad grundskola åk 1–9, hemkommun", "kr/elev", "hemkommun"),
}
"""The compulsory-school KPIs Leda gathers, and those a plan usually follows, as Kolada titles them (the titles as
public clients quote them; `leda kolada check` shows Kolada's own). Each figure is compared only with the same KPI
elsewhere (Riket, the comparison group, another year), never with a KPI of the other population."""


def kpi_name(kpi: str) -> str:
    """A KPI as people read it: its id and Kolada title ("N15419 Elever i åk 9 …"); the id alone if not catalogued."""
    definition = KPI_CATALOGUE.get(kpi)
    return f"{kpi} {definition.title_sv}" if definition else kpi


DATA_PACK_KPIS: tuple[str, ...] = ("N15419", "N15428", "N15507", "N15814", "N15006")
"""Year-9 results, eligibility, merit value, certified teachers, cost per pupil: Kolada's KPIs for compulsory
school (grundskola)."""

UNIT_KPIS: tuple[str, ...] = ("N15419", "N15436", "N15505", "N15814")
"""Per school unit: year-9 all subjects passed, vocational eligibility, merit value, certified teachers.

The "kommunala skolor" variants of the compulsory-school KPIs: a school unit is one of the municipality's own
schools, and the *hemkommun* variants count pupils by where they live, which says nothing about a school. The pack
asks Kolada's metadata (``/v3/kpi/{id}``, ``has_ou_data``) as it gathers, and leaves out any of these Kolada does not
publish per unit; `leda kolada check` reports the same ahead of time. Not yet checked against the live service.
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


class ComparisonGroup(BaseModel):
    """A Kolada municipality group the municipality is compared with, such as its "liknande kommuner" group
    (``/v3/municipality_groups``): municipalities alike in what shapes school results."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    members: list[str]  # kommunkoder


def comparison_group_for(groups: list[ComparisonGroup], title: str, municipality_name: str) -> ComparisonGroup | None:
    """The group of the kind ``title`` (e.g. "Liknande kommuner grundskola") that is the municipality's own: Kolada
    names each such group after the municipality it is made for ("Liknande kommuner grundskola, Hallsberg")."""
    wanted = f"{title}, {municipality_name}".casefold()
    return next((group for group in groups if group.title.casefold() == wanted), None)


def group_median(
    observations: list[KpiObservation], kpi: str, group: ComparisonGroup, *, leaving_out: str
) -> dict[int, tuple[float, int]]:
    """Per year, the median of ``kpi`` (total, both genders) over the group's members other than ``leaving_out``
    (the municipality itself), with how many members had a value that year."""
    by_year: dict[int, list[float]] = {}
    for o in observations:
        if o.kpi == kpi and o.gender == "T" and o.value is not None and o.municipality in group.members:
            if o.municipality != leaving_out:
                by_year.setdefault(o.period, []).append(o.value)
    return {year: (statistics.median(values), len(values)) for year, values in sorted(by_year.items())}


def is_school_unit(unit_id: str) -> bool:
    """Whether a Kolada organisational-unit id is a compulsory school's (see ``SCHOOL_UNIT_PREFIX``)."""
    return unit_id.startswith(SCHOOL_UNIT_PREFIX)
