"""Key figures (Kolada KPIs) that the deep analysis gathers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

RIKET = "0000"
"""Kolada's id for the whole country (Riket)."""

DATA_PACK_KPIS: tuple[str, ...] = ("N15419", "N15428", "N15507", "N15814", "N15006")
"""Year-9 results, eligibility, merit value, certified teachers, cost per pupil (domain.md §8.2)."""


class KpiObservation(BaseModel):
    """One value of one KPI for one municipality, period and gender, as Kolada publishes it."""

    model_config = ConfigDict(frozen=True)

    kpi: str
    municipality: str
    period: int
    gender: str  # T (total), K (women), M or F (men; both spellings occur)
    value: float | None
    status: str | None = None
