"""Write the synthetic Kolada sample files served by ``devstack.kolada.KoladaSampleServer``.

SYNTETISKA DATA / SYNTHETIC DATA. Every number written here is invented by the formula below; none is a
Kolada value. No source available to this project contains real values for the pilot municipalities, so
demos and tests get numbers that look like Kolada's (same KPIs, same response shape, plausible magnitudes)
and are labelled as invented in every file.

The output is deterministic: the random generator is seeded with the KPI and municipality ids, so running
the script again rewrites identical files. Run it from anywhere:

    python devstack/kolada_synthetic/generate_synthetic.py
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

NOTICE = "SYNTETISKA DATA / SYNTHETIC DATA: invented for demos and tests, not Kolada values"

YEARS = range(2019, 2026)

MUNICIPALITIES: dict[str, str] = {
    "0000": "Riket",
    "1861": "Hallsberg",
    "1864": "Ljusnarsberg",
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
}
"""Kommunkod -> name (SCB's codes, the pilots of ``domain/municipalities.py``); 0000 is the whole country."""

# Small municipalities have small year-9 cohorts, so their figures jump more from year to year.
NOISE_FACTOR: dict[str, float] = {"0000": 0.2, "1864": 3.0, "1861": 1.6, "1442": 1.5, "1272": 1.4}

# Small cohorts are where published gender splits go missing; a few nulls keep clients honest about them.
MISSING_GENDER_SPLIT: set[tuple[str, int]] = {("1864", 2020), ("1864", 2023)}


@dataclass(frozen=True)
class KpiModel:
    """How one KPI's invented numbers are drawn."""

    title: str
    unit: str
    national_2019: float  # invented level for Riket in 2019
    trend_per_year: float  # invented national drift
    municipality_spread: float  # standard deviation of a municipality's fixed offset from Riket
    yearly_noise: float  # standard deviation of year-to-year variation (before NOISE_FACTOR)
    women_minus_men: float | None  # invented gap between K and M; None: published as total (T) only
    lower: float
    upper: float
    decimals: int


KPIS: dict[str, KpiModel] = {
    "N15419": KpiModel(
        title="Elever i åk 9 som uppnått kunskapskraven i alla ämnen, kommunala skolor, andel (%)",
        unit="%",
        national_2019=75.0,
        trend_per_year=-0.4,
        municipality_spread=5.0,
        yearly_noise=1.5,
        women_minus_men=4.5,
        lower=35.0,
        upper=98.0,
        decimals=1,
    ),
    "N15428": KpiModel(
        title="Elever i åk 9 som är behöriga till yrkesprogram, hemkommun, andel (%)",
        unit="%",
        national_2019=85.5,
        trend_per_year=-0.2,
        municipality_spread=4.0,
        yearly_noise=1.2,
        women_minus_men=2.5,
        lower=55.0,
        upper=99.5,
        decimals=1,
    ),
    "N15507": KpiModel(
        title="Elever i åk 9, meritvärde, hemkommun, genomsnitt (17 ämnen)",
        unit="meritvärde",
        national_2019=229.0,
        trend_per_year=0.5,
        municipality_spread=10.0,
        yearly_noise=3.0,
        women_minus_men=22.0,
        lower=170.0,
        upper=285.0,
        decimals=1,
    ),
    "N15814": KpiModel(
        title=(
            "Lärare (heltidstjänster) med lärarlegitimation och behörighet i minst ett ämne i grundskola "
            "åk 1-9, kommunala skolor, andel (%)"
        ),
        unit="%",
        national_2019=71.0,
        trend_per_year=0.4,
        municipality_spread=6.0,
        yearly_noise=1.5,
        women_minus_men=None,
        lower=40.0,
        upper=97.0,
        decimals=1,
    ),
    "N15006": KpiModel(
        title="Kostnad grundskola åk 1-9, hemkommun, kr/elev",
        unit="kr/elev",
        national_2019=113_000.0,
        trend_per_year=3_800.0,
        municipality_spread=8_000.0,
        yearly_noise=1_500.0,
        women_minus_men=None,
        lower=80_000.0,
        upper=180_000.0,
        decimals=0,
    ),
}


def _round(value: float, model: KpiModel) -> float:
    clipped = min(max(value, model.lower), model.upper)
    return round(clipped, model.decimals) if model.decimals else float(round(clipped))


def _series(kpi: str, municipality: str, model: KpiModel) -> list[dict[str, object]]:
    """One Kolada data object per year for one KPI and municipality."""
    # random.Random seeded with a str hashes it with SHA-512: stable across runs and Python versions,
    # unlike hash(), which PYTHONHASHSEED randomises.
    rng = random.Random(f"leda-synthetic:{kpi}:{municipality}")
    offset = 0.0 if municipality == "0000" else rng.gauss(0.0, model.municipality_spread)
    noise = model.yearly_noise * NOISE_FACTOR.get(municipality, 1.0)
    objects: list[dict[str, object]] = []
    for year in YEARS:
        total = model.national_2019 + model.trend_per_year * (year - 2019) + offset + rng.gauss(0.0, noise)
        entries: list[dict[str, object]] = [{"count": 1, "gender": "T", "status": "", "value": _round(total, model)}]
        if model.women_minus_men is not None:
            gap = model.women_minus_men + rng.gauss(0.0, noise / 2)
            missing = (municipality, year) in MISSING_GENDER_SPLIT
            for gender, sign in (("K", 0.5), ("M", -0.5)):
                value = None if missing else _round(total + sign * gap, model)
                entries.append({"count": 1, "gender": gender, "status": "", "value": value})
        objects.append({"kpi": kpi, "municipality": municipality, "period": year, "values": entries})
    return objects


def build(kpi: str) -> dict[str, object]:
    """The whole sample file for one KPI."""
    model = KPIS[kpi]
    values = [obj for municipality in MUNICIPALITIES for obj in _series(kpi, municipality, model)]
    return {
        "_notice": NOTICE,
        "generated_by": "devstack/kolada_synthetic/generate_synthetic.py",
        "kpi": kpi,
        "title": model.title,
        "unit": model.unit,
        "municipalities": MUNICIPALITIES,
        "values": values,
    }


# Per school unit (Kolada's "oudata") ------------------------------------------------------------------------

UNIT_ONLY_KPIS: dict[str, KpiModel] = {
    "N15436": KpiModel(
        title="Elever i åk 9 som är behöriga till yrkesprogram, kommunala skolor, andel (%)",
        unit="%",
        national_2019=84.5,
        trend_per_year=-0.2,
        municipality_spread=4.0,
        yearly_noise=1.2,
        women_minus_men=2.5,
        lower=50.0,
        upper=100.0,
        decimals=1,
    ),
    "N15505": KpiModel(
        title="Elever i åk. 9, meritvärde kommunala skolor, genomsnitt (17 ämnen)",
        unit="meritvärde",
        national_2019=226.0,
        trend_per_year=0.5,
        municipality_spread=10.0,
        yearly_noise=3.0,
        women_minus_men=22.0,
        lower=160.0,
        upper=290.0,
        decimals=1,
    ),
}
"""KPIs served per unit only; N15419 and N15814 reuse the municipality models in ``KPIS``."""

UNIT_KPIS: tuple[str, ...] = ("N15419", "N15436", "N15505", "N15814")
"""The per-unit data pack in ``domain/kpis.py`` (``UNIT_KPIS``)."""

YEAR_9_KPIS = frozenset({"N15419", "N15436", "N15505"})
"""Year-9 results: a school without a year 9 (F-6) has none."""


@dataclass(frozen=True)
class SyntheticUnit:
    """An invented organisational unit: id in Kolada's style, invented title, how it differs."""

    id: str
    municipality: str
    title: str
    offset: float  # fixed distance from the municipality's line, in multiples of the KPI's municipality_spread
    has_year_9: bool = True


UNITS: tuple[SyntheticUnit, ...] = (
    # Hallsberg: three schools with a year 9, one F-6 school, one preschool (not a school unit; no data).
    SyntheticUnit("V15E186100001", "1861", "Norrbackaskolan 7-9 (syntetisk)", offset=1.3),
    SyntheticUnit("V15E186100002", "1861", "Ekängsskolan F-9 (syntetisk)", offset=-1.6),
    SyntheticUnit("V15E186100003", "1861", "Lövsta skola F-6 (syntetisk)", offset=0.4, has_year_9=False),
    SyntheticUnit("V15E186100004", "1861", "Björkdalsskolan 4-9 (syntetisk)", offset=-0.2),
    SyntheticUnit("V11E186100001", "1861", "Förskolan Tallbacken (syntetisk)", offset=0.0, has_year_9=False),
    # Ljusnarsberg: two schools with a year 9.
    SyntheticUnit("V15E186400001", "1864", "Gruvbacksskolan 7-9 (syntetisk)", offset=0.9),
    SyntheticUnit("V15E186400002", "1864", "Sjövallsskolan F-9 (syntetisk)", offset=-1.4),
)
"""Every unit listed on ``/v3/ou``. The offsets are chosen by hand so that the units differ visibly."""

# A small school's year-9 cohort is sometimes too small to publish: every gender null for that year.
UNIT_WITHHELD: set[tuple[str, int]] = {("V15E186400002", 2022)}


def _unit_model(kpi: str) -> KpiModel:
    return KPIS[kpi] if kpi in KPIS else UNIT_ONLY_KPIS[kpi]


def _unit_series(kpi: str, unit: SyntheticUnit, model: KpiModel) -> list[dict[str, object]]:
    """One Kolada unit data object per year for one KPI and unit, keyed "ou" (see the README on "out")."""
    if unit.id.startswith("V11E") or (kpi in YEAR_9_KPIS and not unit.has_year_9):
        return []
    # The municipality's offset is the first draw of the generator _series uses, so a unit's numbers lie
    # around its municipality's (without being weighted to average out to them).
    municipality_offset = random.Random(f"leda-synthetic:{kpi}:{unit.municipality}").gauss(
        0.0, model.municipality_spread
    )
    rng = random.Random(f"leda-synthetic-unit:{kpi}:{unit.id}")
    offset = municipality_offset + unit.offset * model.municipality_spread
    noise = model.yearly_noise * 2.5  # single schools jump more than whole municipalities
    objects: list[dict[str, object]] = []
    for year in YEARS:
        total = model.national_2019 + model.trend_per_year * (year - 2019) + offset + rng.gauss(0.0, noise)
        withheld = (unit.id, year) in UNIT_WITHHELD and kpi in YEAR_9_KPIS
        entries: list[dict[str, object]] = [
            {"count": 1, "gender": "T", "status": "", "value": None if withheld else _round(total, model)}
        ]
        if model.women_minus_men is not None:
            gap = model.women_minus_men + rng.gauss(0.0, noise / 2)
            for gender, sign in (("K", 0.5), ("M", -0.5)):
                value = None if withheld else _round(total + sign * gap, model)
                entries.append({"count": 1, "gender": gender, "status": "", "value": value})
        objects.append({"kpi": kpi, "ou": unit.id, "period": year, "values": entries})
    return objects


def build_units() -> dict[str, object]:
    """The unit listing served on ``/v3/ou``: Kolada's ``{"id", "municipality", "title"}`` objects."""
    return {
        "_notice": NOTICE,
        "generated_by": "devstack/kolada_synthetic/generate_synthetic.py",
        "values": [{"id": unit.id, "municipality": unit.municipality, "title": unit.title} for unit in UNITS],
    }


def build_unit_data(kpi: str) -> dict[str, object]:
    """The per-unit sample file for one KPI, served on ``/v3/oudata/...``."""
    model = _unit_model(kpi)
    return {
        "_notice": NOTICE,
        "generated_by": "devstack/kolada_synthetic/generate_synthetic.py",
        "kpi": kpi,
        "title": model.title,
        "unit": model.unit,
        "units": {unit.id: unit.title for unit in UNITS},
        "values": [obj for unit in UNITS for obj in _unit_series(kpi, unit, model)],
    }


def _write(path: Path, document: dict[str, object]) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    directory = Path(__file__).resolve().parent
    for kpi in KPIS:
        _write(directory / f"synthetic_{kpi}.json", build(kpi))
    _write(directory / "synthetic_ou.json", build_units())
    for kpi in UNIT_KPIS:
        _write(directory / f"synthetic_oudata_{kpi}.json", build_unit_data(kpi))


if __name__ == "__main__":
    main()
