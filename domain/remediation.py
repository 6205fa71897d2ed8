"""Scheduling the remediation of an inspection finding backwards from its reporting deadline.

Skolinspektionen sets the day by which the organiser reports the measures taken (redovisning av vidtagna
åtgärder). The steps before it are placed that many days ahead of it, each on a working day; when the
deadline is too close for the plan, the steps that no longer fit are squeezed in between today and the deadline.
A decision registered after its deadline has passed is remedied from the day it is registered, the steps as far
apart as the plan sets them.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.decision_dates import is_deadline_holiday, next_working_day, previous_working_day
from domain.roles import Role


class PlannedStep(BaseModel):
    """A step of a remediation plan, due `days_before_deadline` days before the report deadline."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1)
    title_sv: str
    title_en: str
    owner_role: Role
    days_before_deadline: int = Field(ge=0)


class RemediationStep(BaseModel):
    """A scheduled step; `compressed` when time is short and its date is not the one the plan gives."""

    model_config = ConfigDict(frozen=True)

    key: str
    title_sv: str
    title_en: str
    owner_role: Role
    due: date
    compressed: bool


DEFAULT_PLAN: tuple[PlannedStep, ...] = (
    PlannedStep(
        key="atgardsplan",
        title_sv="Åtgärdsplan upprättad",
        title_en="Action plan drawn up",
        owner_role=Role.FORVALTNINGSCHEF,
        days_before_deadline=60,
    ),
    PlannedStep(
        key="atgarder_genomforda",
        title_sv="Åtgärderna genomförda",
        title_en="Measures carried out",
        owner_role=Role.REKTOR,
        days_before_deadline=21,
    ),
    PlannedStep(
        key="namndbeslut_redovisning",
        title_sv="Nämnden beslutar om redovisningen",
        title_en="The nämnd decides on the report of measures",
        owner_role=Role.NAMNDSEKRETERARE,
        days_before_deadline=10,
    ),
    PlannedStep(
        key="redovisning_inskickad",
        title_sv="Redovisning av vidtagna åtgärder inskickad till Skolinspektionen",
        title_en="Report of measures taken sent to Skolinspektionen",
        owner_role=Role.FORVALTNINGSCHEF,
        days_before_deadline=0,
    ),
)


def schedule_backwards(
    report_deadline: date, *, today: date, plan: tuple[PlannedStep, ...] = DEFAULT_PLAN
) -> list[RemediationStep]:
    """The plan's steps dated back from `report_deadline`, on working days, none before `today`.

    A date that falls on a weekend or holiday moves to the working day before it: a deadline met early is met.
    When the first steps would fall before today, they are spread evenly over the working days from today up
    to the first step that still fits, on distinct days where there is room; if there is no room for them, the
    next step is compressed too (a step whose date does not change keeps compressed=False). Dates never
    decrease in plan order.
    """
    _check_plan(plan)
    if report_deadline < today:
        raise ValueError(f"the report deadline {report_deadline} has passed (today is {today})")

    planned = [previous_working_day(report_deadline - timedelta(days=s.days_before_deadline)) for s in plan]
    late = sum(1 for d in planned if d < today)  # a prefix: planned dates never decrease
    dues = list(planned)
    if late:
        to_squeeze = late
        while to_squeeze < len(plan) and len(_working_days(today, planned[to_squeeze])) < to_squeeze:
            to_squeeze += 1
        if to_squeeze < len(plan):
            slots = _working_days(today, planned[to_squeeze])
        elif planned[-1] >= today:
            slots = _working_days(today, planned[-1] + timedelta(days=1))
        else:
            slots = _working_days(today, report_deadline + timedelta(days=1))
        for index in range(to_squeeze):
            # index * len / count spreads the steps evenly from today; with too few slots they share days
            dues[index] = slots[index * len(slots) // to_squeeze] if slots else today

    return [
        RemediationStep(
            key=step.key,
            title_sv=step.title_sv,
            title_en=step.title_en,
            owner_role=step.owner_role,
            due=due,
            compressed=due != planned_due,
        )
        for step, due, planned_due in zip(plan, dues, planned, strict=True)
    ]


def schedule_from_registration(*, today: date, plan: tuple[PlannedStep, ...] = DEFAULT_PLAN) -> list[RemediationStep]:
    """The plan's steps for a finding whose reporting deadline had passed when it was registered: counted from
    `today`, the first step today (or the next working day) and the report as many days later as the plan gives
    between them, so the late report comes as soon as the plan's own pace allows."""
    _check_plan(plan)
    report_day = next_working_day(today + timedelta(days=plan[0].days_before_deadline))
    return schedule_backwards(report_day, today=today, plan=plan)


def _working_days(start: date, end: date) -> list[date]:
    """The working days from `start` up to, not including, `end`."""
    days = []
    day = start
    while day < end:
        if not is_deadline_holiday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _check_plan(plan: tuple[PlannedStep, ...]) -> None:
    if not plan:
        raise ValueError("a remediation plan needs at least one step")
    keys = [s.key for s in plan]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"step keys must be unique; repeated: {duplicates}")
    for earlier, later in zip(plan, plan[1:], strict=False):
        if later.days_before_deadline > earlier.days_before_deadline:
            raise ValueError(
                f"steps must be in order: {later.key!r} ({later.days_before_deadline} days before) comes after "
                f"{earlier.key!r} ({earlier.days_before_deadline} days before)"
            )
