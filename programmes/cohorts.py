"""Cohorts (programme rounds): which pilots take part, and how far apart their starts are staggered."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from domain.municipalities import check_pilot_code, pilot_name
from domain.pilot_ids import PROGRAMME_PATTERN
from programmes import TemplateError, load_named_file

COHORT_DIR = Path(__file__).parent / "cohorts"


class CohortPilot(BaseModel):
    kommunkod: str = Field(description="a kommunkod, or a kommunalförbund's member codes joined by '+'")
    name: str | None = None
    organ: str | None = Field(default=None, description="the organ that decides school matters")
    start_after_days: float = Field(default=0, ge=0, description="in the template's days")
    calendar: str | None = Field(default=None, description="a school-year calendar in programmes/calendars")

    @field_validator("kommunkod")
    @classmethod
    def _pilot_code(cls, value: str) -> str:
        return check_pilot_code(value)

    @property
    def shown_name(self) -> str:
        """Its name as the cohort gives it, else the register's, else its code."""
        return self.name or pilot_name(self.kommunkod) or self.kommunkod


class Cohort(BaseModel):
    programme: str = Field(pattern=PROGRAMME_PATTERN)
    template: str
    pilots: list[CohortPilot] = Field(min_length=1)

    @field_validator("pilots")
    @classmethod
    def _each_pilot_once(cls, pilots: list[CohortPilot]) -> list[CohortPilot]:
        codes = [p.kommunkod for p in pilots]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"a pilot takes part once per cohort; repeated: {repeated}")
        return pilots


def load_cohort(name_or_path: str) -> Cohort:
    """A shipped cohort by name (programmes/cohorts/NAME.toml) or any cohort file by path."""
    return load_named_file(name_or_path, COHORT_DIR, Cohort, "cohort")


def cohort_names() -> list[str]:
    """The cohorts Leda ships, by name."""
    return sorted(p.stem for p in COHORT_DIR.glob("*.toml"))


def shipped_cohort(name: str) -> Cohort:
    """A cohort Leda ships, by name only: what an edge open to the network may load (never a path)."""
    if name not in cohort_names():
        raise TemplateError(f"cohort: no shipped cohort {name!r}; shipped: {cohort_names()}")
    return load_cohort(name)
