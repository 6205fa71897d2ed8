"""The yearly follow-up's figures: which year they are for, what the follow-up opens with, and when a typed value
stands.

Each implementation year's SKA cycle starts with the system gathering the plan's KPIs from Kolada (the task
`follow_up_figures`); the follow-up (`ska_follow_up`) of the same year opens with them filled in. Whoever
completes it may correct a figure, or give one Kolada has not published, only with a reason; the gathered figure
stays in the record beside the follow-up's.
"""

from __future__ import annotations

import math
from typing import Any

from domain.municipalities import members_of
from domain.payloads import FollowUpFigures, YearlyFollowUp
from domain.state import MunicipalityState, TaskStatus
from domain.task_keys import FOLLOW_UP_FIGURES, SKA_FOLLOW_UP


def figures_year(state: MunicipalityState, implementation_year: int) -> int:
    """The calendar year an implementation year's follow-up looks back on: the one that ended before the
    implementation year started.

    Kolada's period for compulsory-school results is the calendar year of the spring term (2025 = läsåret
    2024/25). Most of them are published in the autumn of that year, the rest by the spring after, so a follow-up
    made in the first months of the implementation year finds them; one that is not out yet is recorded as "no
    value published".
    """
    started = state.implementation_year_starts.get(implementation_year)
    if started is None:
        raise ValueError(f"implementation year {implementation_year} has not started")
    return started.year - 1


def plan_kpis(state: MunicipalityState, implementation_year: int) -> list[str]:
    """The KPIs of the goals of the plan in force in the implementation year, each once, in the plan's order."""
    plan = state.current_plan(year=implementation_year)
    return list(dict.fromkeys(goal.kpi for goal in plan.goals)) if plan else []


def gathered_figures(state: MunicipalityState, task_key: str) -> FollowUpFigures | None:
    """The figures gathered for the follow-up `task_key` (its year's `follow_up_figures`), or by `task_key` itself
    when it is the gathering; None for any other task, and before they are gathered."""
    follow_up = state.tasks.get(task_key)
    if follow_up is None or follow_up.template_key not in (SKA_FOLLOW_UP, FOLLOW_UP_FIGURES) or follow_up.year is None:
        return None
    figures = next(
        (
            t
            for t in state.tasks.values()
            if t.template_key == FOLLOW_UP_FIGURES and t.year == follow_up.year and t.status is TaskStatus.COMPLETED
        ),
        None,
    )
    return FollowUpFigures.model_validate(figures.payload) if figures is not None else None


def follow_up_prefill(state: MunicipalityState, task_key: str) -> dict[str, Any] | None:
    """What the follow-up `task_key` opens with: the year and each gathered value (none for a kommunalförbund, whose
    members Kolada has each on its own); None for any other task, and for a follow-up with no gathered figures (the
    template gathers none, or they are not in yet)."""
    task = state.tasks.get(task_key)
    figures = gathered_figures(state, task_key) if task and task.template_key == SKA_FOLLOW_UP else None
    if figures is None:
        return None
    values = figures.published(state.kommunkod)
    return {"year": figures.year, "kpi_values": {kpi: values[kpi] for kpi in figures.kpis if kpi in values}}


def same_figure(typed: float, gathered: float) -> bool:
    """Whether a typed value is the gathered one, as written back from a form (78,3 for 78.3)."""
    return math.isclose(typed, gathered, rel_tol=1e-9, abs_tol=1e-9)


def follow_up_contradiction(state: MunicipalityState, task_key: str, follow_up: YearlyFollowUp) -> str | None:
    """Where a follow-up leaves the figures gathered for it without saying why: a gathered value left out, a value
    that differs from Kolada's (or one Kolada did not publish) with no reason, or a reason for a value that does
    not differ. None when it keeps to them, and when nothing was gathered."""
    figures = gathered_figures(state, task_key)
    if figures is None:
        return None
    if follow_up.year != figures.year:
        return f"year: the figures gathered from Kolada are for {figures.year}, and the follow-up is of that year"
    if len(members_of(state.kommunkod)) > 1:
        return None  # a kommunalförbund: Kolada has each member's figures, none of the förbund's own to correct
    published = figures.published(state.kommunkod)
    for kpi in figures.kpis:
        gathered = published.get(kpi)
        typed = follow_up.kpi_values.get(kpi)
        if typed is None:
            if gathered is not None:
                return (
                    f"kpi_values.{kpi}: Kolada published {gathered:g} for {figures.year}; keep the value, or "
                    f"correct it and give the reason in corrections.{kpi}"
                )
            continue
        differs = gathered is None or not same_figure(typed, gathered)
        if differs and kpi not in follow_up.corrections:
            kolada = "no value" if gathered is None else f"{gathered:g}"
            return (
                f"corrections.{kpi}: {typed:g} is not Kolada's figure for {figures.year} ({kolada}); "
                "give the reason, or the source of the value"
            )
        if not differs and kpi in follow_up.corrections:
            return f"corrections.{kpi}: {typed:g} is Kolada's own figure; a reason is only for a value that differs"
    return None
